//===- MLGRTOps.td - the runtime dialect -------------------*- tablegen -*-===//
//
// The lowered form of an mlg function: what the runtime executes. Buffers
// are memrefs at offsets in one arena, or persistent tensors (parameters,
// state, constants) by name; each computing op becomes a step that names a
// kernel and carries its attributes, its workspace, and its stream and
// events. mlg-translate --mlg-to-program serializes it.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLGRT_MLGRTOPS_TD
#define MLG_DIALECT_MLGRT_MLGRTOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def MLGRT_Dialect : Dialect {
  let name = "mlgrt";
  let cppNamespace = "::mlg::rt";
  let summary = "Buffers at arena offsets and kernel steps: a program for the runtime";
  let useDefaultAttributePrinterParser = 1;
}

class MLGRT_Op<string mnemonic, list<Trait> traits = []>
    : Op<MLGRT_Dialect, mnemonic, traits>;

def MLGRT_PersistentKind : I32EnumAttr<"PersistentKind", "persistent tensor kind", [
    I32EnumAttrCase<"parameter", 0>, I32EnumAttrCase<"state", 1>,
    I32EnumAttrCase<"table", 2>]> {
  let cppNamespace = "::mlg::rt";
  let genSpecializedAttr = 0;
}
def MLGRT_PersistentKindAttr
    : EnumAttr<MLGRT_Dialect, MLGRT_PersistentKind, "kind">;

def MLGRT_PersistentInit : I32EnumAttr<"PersistentInit", "initialization from a seed", [
    I32EnumAttrCase<"random", 0>, I32EnumAttrCase<"zeros", 1>,
    I32EnumAttrCase<"ones", 2>]> {
  let cppNamespace = "::mlg::rt";
  let genSpecializedAttr = 0;
}
def MLGRT_PersistentInitAttr
    : EnumAttr<MLGRT_Dialect, MLGRT_PersistentInit, "init">;

def MLGRT_ProgramOp : MLGRT_Op<"program", [
    Symbol, IsolatedFromAbove, NoTerminator, SingleBlock]> {
  let summary = "a compiled step: buffers, steps, inputs and outputs";
  let description = [{
    The body lists, in execution order, the buffers, persistent tensors,
    constants, steps, inputs and outputs of one program. `arena_size` bytes
    hold every buffer; `host_size` bytes of pinned host memory (the host
    pool, absent if none) hold the host buffers that offload and prefetch
    steps copy to and from. Steps run on `num_streams` streams and
    synchronize through `num_events` events: a step waits only for events
    that earlier steps record, so the body's order is also a valid serial
    order. `memory_budget`, where the user gave one, is the device memory
    the step may use in all: what the program's buffers leave of it bounds
    a backend's scratch.

    ```mlir
    mlgrt.program @forward {arena_size = 266240 : i64, num_events = 0 : i64, num_streams = 1 : i64} {
      %x = mlgrt.buffer 241664 : memref<2x3x32x32xf32>
      mlgrt.input "input" %x : memref<2x3x32x32xf32>
      %w = mlgrt.persistent "conv.weight" parameter : memref<16x3x3x3xf32>
      %y = mlgrt.buffer 0 : memref<2x16x32x32xf32>
      mlgrt.step "conv" (%x, %w) -> (%y) {kernel_attrs = {...}, name = "conv1"} : ...
      mlgrt.output "logits" %y : memref<2x16x32x32xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, I64Attr:$arena_size,
                   I64Attr:$num_streams, I64Attr:$num_events,
                   OptionalAttr<StrAttr>:$source,
                   OptionalAttr<I64Attr>:$host_size,
                   OptionalAttr<I64Attr>:$memory_budget);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def MLGRT_BufferOp : MLGRT_Op<"buffer", [Pure]> {
  let summary = "a view of the arena at an offset";
  let description = [{
    ```mlir
    %b = mlgrt.buffer 4096 : memref<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins I64Attr:$offset);
  let results = (outs AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$offset attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def MLGRT_HostBufferOp : MLGRT_Op<"host_buffer", [Pure]> {
  let summary = "a view of the pinned host pool at an offset";
  let description = [{
    Where an offloaded tensor waits for its backward use: only `offload`
    steps (arena to host) write host buffers and only `prefetch` steps
    (host to arena) read them, on their own streams.

    ```mlir
    %h = mlgrt.host_buffer 0 : memref<8x64x56x56xf32>
    mlgrt.step "offload" (%a) -> (%h) {kernel_attrs = {}, record = 1 : i64, stream = 1 : i64, wait = array<i64: 0>} : (memref<8x64x56x56xf32>) -> (memref<8x64x56x56xf32>)
    ```
  }];
  let arguments = (ins I64Attr:$offset);
  let results = (outs AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$offset attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def MLGRT_PersistentOp : MLGRT_Op<"persistent", [Pure]> {
  let summary = "a tensor that outlives the step, found by name";
  let description = [{
    A parameter, a piece of state (running statistics, optimizer moments) or
    a read-only table, held by the runtime outside the arena and loaded from
    the weights file by its initializer name. Without a weights file it is
    initialized from a seed as `init` says (random by default).

    ```mlir
    %w = mlgrt.persistent "conv1.weight" parameter : memref<64x3x7x7xf32>
    %v = mlgrt.persistent "bn.running_var" state {init = #mlgrt<init ones>} : memref<64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, MLGRT_PersistentKindAttr:$kind,
                   OptionalAttr<MLGRT_PersistentInitAttr>:$init);
  let results = (outs AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$name `` $kind attr-dict `:` type($buffer)";
}

def MLGRT_ConstantOp : MLGRT_Op<"constant", [Pure]> {
  let summary = "a constant tensor carried in the program";
  let description = [{
    Small constants (shape tables, fill values) travel in the program; they
    are not weights.

    ```mlir
    %c = mlgrt.constant dense<0.0> : tensor<1x64x1024xf32> : memref<1x64x1024xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$value attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def MLGRT_InputOp : MLGRT_Op<"input"> {
  let summary = "binds a program input to the buffer it is copied into";
  let arguments = (ins StrAttr:$name, AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$name $buffer attr-dict `:` type($buffer)";
}

def MLGRT_OutputOp : MLGRT_Op<"output"> {
  let summary = "binds a program output to the buffer it is read from";
  let arguments = (ins StrAttr:$name, AnyStaticShapeMemRef:$buffer);
  let assemblyFormat = "$name $buffer attr-dict `:` type($buffer)";
}

def MLGRT_StepOp : MLGRT_Op<"step", [AttrSizedOperandSegments]> {
  let summary = "one kernel launch";
  let description = [{
    Runs `kernel` (an mlg op name without the dialect prefix: "conv",
    "relu", ...) reading `inputs` and writing `outputs` (which may be the
    same memory, for in-place kernels), with the op's `kernel_attrs`. A kernel
    that needs scratch memory gets `workspace = [offset, bytes]` in the
    arena. The step runs on `stream` after the events in `wait` and records
    `record` (-1 for none) when done. `name` is the ONNX node, for messages.
    `release` lists the arena ranges (offset, bytes pairs) whose live
    interval ends with this step; a debugging runtime poisons them.

    ```mlir
    mlgrt.step "relu" (%a) -> (%a) {kernel_attrs = {}, name = "relu1", record = -1 : i64, stream = 0 : i64, wait = array<i64>} : (memref<8x64xf32>) -> (memref<8x64xf32>)
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyStaticShapeMemRef>:$inputs,
                   Variadic<AnyStaticShapeMemRef>:$outputs,
                   DictionaryAttr:$kernel_attrs,
                   OptionalAttr<DenseI64ArrayAttr>:$workspace, I64Attr:$stream,
                   DenseI64ArrayAttr:$wait, I64Attr:$record,
                   OptionalAttr<StrAttr>:$name,
                   OptionalAttr<DenseI64ArrayAttr>:$release);
  let assemblyFormat = [{
    $kernel `(` $inputs `)` `->` `(` $outputs `)` attr-dict `:`
    custom<ParenTypeList>(type($inputs)) `->`
    custom<ParenTypeList>(type($outputs))
  }];
  let hasVerifier = 1;
}

#endif // MLG_DIALECT_MLGRT_MLGRTOPS_TD
