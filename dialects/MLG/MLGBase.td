//===- MLGBase.td - mlg dialect base definitions -----------*- tablegen -*-===//
//
// The mlg dialect: static-shaped tensor ops with ONNX semantics, normalized at
// import (explicit pads, positive axes, attributes instead of constant
// operands). Type constraints and base classes shared by the op files.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGBASE_TD
#define MLG_DIALECT_MLG_MLGBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "MLGInterfaces.td"

def MLG_Dialect : Dialect {
  let name = "mlg";
  let cppNamespace = "::mlg";
  let summary = "Tensor graph ops with ONNX semantics and static shapes";
  let description = [{
    The `mlg` dialect holds a neural network as imported from ONNX: every
    tensor is ranked with a static shape, axes are non-negative, padding is
    explicit, and operands that ONNX passes as constant tensors (axes, pads,
    shapes, ratios) are attributes. Shape arithmetic folds to constants.
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def MLG_Float : AnyTypeOf<[F16, BF16, F32, F64], "floating-point">;
def MLG_SignedInt : AnyTypeOf<[I8, I16, I32, I64], "signed integer">;
def MLG_UnsignedInt : AnyTypeOf<[UI8, UI16, UI32, UI64], "unsigned integer">;
def MLG_Bool : TypeAlias<I1, "bool">;
def MLG_Element : AnyTypeOf<[MLG_Float, MLG_SignedInt, MLG_UnsignedInt, I1],
                            "ONNX element">;
def MLG_Numeric : AnyTypeOf<[MLG_Float, MLG_SignedInt, MLG_UnsignedInt],
                            "numeric">;

def MLG_Tensor : StaticShapeTensorOf<[MLG_Element]>;
def MLG_NumericTensor : StaticShapeTensorOf<[MLG_Numeric]>;
def MLG_FloatTensor : StaticShapeTensorOf<[MLG_Float]>;
def MLG_SignedTensor : StaticShapeTensorOf<[MLG_Float, MLG_SignedInt]>;
def MLG_BoolTensor : StaticShapeTensorOf<[I1]>;
def MLG_IntegerTensor : StaticShapeTensorOf<[MLG_SignedInt, MLG_UnsignedInt]>;
def MLG_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def MLG_I64Tensor : StaticShapeTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def MLG_PadMode : I32EnumAttr<"PadMode", "padding mode", [
    I32EnumAttrCase<"constant", 0>, I32EnumAttrCase<"reflect", 1>,
    I32EnumAttrCase<"edge", 2>]> {
  let cppNamespace = "::mlg";
  let genSpecializedAttr = 0;
}
def MLG_PadModeAttr : EnumAttr<MLG_Dialect, MLG_PadMode, "pad_mode">;

def MLG_RnnDirection : I32EnumAttr<"RnnDirection", "recurrence direction", [
    I32EnumAttrCase<"forward", 0>, I32EnumAttrCase<"reverse", 1>,
    I32EnumAttrCase<"bidirectional", 2>]> {
  let cppNamespace = "::mlg";
  let genSpecializedAttr = 0;
}
def MLG_RnnDirectionAttr : EnumAttr<MLG_Dialect, MLG_RnnDirection, "direction">;

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class MLG_Op<string mnemonic, list<Trait> traits = []>
    : Op<MLG_Dialect, mnemonic, traits>;

// Ops whose result type follows from operands and attributes. The verifier
// checks the declared result types against the inferred ones, so an
// inconsistent shape is rejected with the inference's own diagnostic.
class MLG_InferredOp<string mnemonic, list<Trait> traits = []>
    : MLG_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])>;

#endif // MLG_DIALECT_MLG_MLGBASE_TD
