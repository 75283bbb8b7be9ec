//===- MLGInterfaces.td - mlg op interfaces and traits -----*- tablegen -*-===//
//
// What the memory passes ask of an op: the scratch memory it needs while it
// runs, and whether its result may overwrite an operand that dies there.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGINTERFACES_TD
#define MLG_DIALECT_MLG_MLGINTERFACES_TD

include "mlir/IR/OpBase.td"

def MLG_WorkspaceOpInterface : OpInterface<"WorkspaceOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op that needs scratch memory while it runs (the im2col buffer of a
    convolution, the gates of one LSTM step). The memory plan gives it that
    many bytes in the arena for the duration of the op, and the edge use-ref
    analysis counts them in the live bytes of its step.
  }];
  let methods = [
    InterfaceMethod<"Bytes of scratch memory the op needs while it runs.",
                    "int64_t", "getWorkspaceBytes">,
  ];
}

// An op whose first result can be written over an operand of the same shape
// and size that has no later use (in-place reuse): elementwise ops, and
// batch norm and dropout, whose first result is elementwise in their input.
// Their kernels read each element before writing the same position.
def MLG_InPlaceElementwise : NativeOpTrait<"InPlaceElementwise"> {
  let cppNamespace = "::mlg";
}

#endif // MLG_DIALECT_MLG_MLGINTERFACES_TD
