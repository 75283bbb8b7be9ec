//===- MLGElementwiseOps.td - elementwise ops --------------*- tablegen -*-===//
//
// Unary, binary (NumPy broadcasting) and select ops. Each unary op computes
// its result type as the operand's; binary ops broadcast multidirectionally as
// ONNX does. Ops fold when their operands are constants, which is how shape
// arithmetic (Shape -> Gather -> Div -> Concat -> Reshape) becomes constants.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGELEMENTWISEOPS_TD
#define MLG_DIALECT_MLG_MLGELEMENTWISEOPS_TD

include "MLGBase.td"

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

class MLG_UnaryOp<string mnemonic, Type type = MLG_FloatTensor,
                  list<Trait> traits = []>
    : MLG_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
                                             InferTypeOpInterface,
                                             MLG_InPlaceElementwise])> {
  let summary = "elementwise " # mnemonic;
  let description = [{
    Applies `}] # mnemonic # [{` to every element; the result has the
    operand's type. Example:

    ```mlir
    %y = mlg.}] # mnemonic # [{ %x : tensor<2x3xf32>
    ```
  }];
  let arguments = (ins type:$input);
  let results = (outs type:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def MLG_ReluOp : MLG_UnaryOp<"relu", MLG_SignedTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_NegOp : MLG_UnaryOp<"neg", MLG_SignedTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_AbsOp : MLG_UnaryOp<"abs", MLG_NumericTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SignOp : MLG_UnaryOp<"sign", MLG_NumericTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SqrtOp : MLG_UnaryOp<"sqrt", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ExpOp : MLG_UnaryOp<"exp", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_LogOp : MLG_UnaryOp<"log", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_TanhOp : MLG_UnaryOp<"tanh", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SigmoidOp : MLG_UnaryOp<"sigmoid", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReciprocalOp : MLG_UnaryOp<"reciprocal", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_FloorOp : MLG_UnaryOp<"floor", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_CeilOp : MLG_UnaryOp<"ceil", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_RoundOp : MLG_UnaryOp<"round", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ErfOp : MLG_UnaryOp<"erf", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SinOp : MLG_UnaryOp<"sin", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_CosOp : MLG_UnaryOp<"cos", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SoftplusOp : MLG_UnaryOp<"softplus", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SoftsignOp : MLG_UnaryOp<"softsign", MLG_FloatTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_NotOp : MLG_UnaryOp<"not", MLG_BoolTensor>;

// Unary ops with floating-point parameters.
class MLG_ParamUnaryOp<string mnemonic, dag params, list<Trait> traits = []>
    : MLG_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
                                            InferTypeOpInterface,
                                            MLG_InPlaceElementwise])> {
  let summary = "elementwise " # mnemonic # " with parameters";
  let arguments = !con((ins MLG_FloatTensor:$input), params);
  let results = (outs MLG_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def MLG_LeakyReluOp : MLG_ParamUnaryOp<"leaky_relu", (ins F64Attr:$alpha),
                                        [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let description = [{
    `x < 0 ? alpha * x : x`.

    ```mlir
    %y = mlg.leaky_relu %x {alpha = 0.01 : f64} : tensor<8xf32>
    ```
  }];
}
def MLG_EluOp : MLG_ParamUnaryOp<"elu", (ins F64Attr:$alpha), [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let description = "`x < 0 ? alpha * (exp(x) - 1) : x`.";
}
def MLG_SeluOp : MLG_ParamUnaryOp<"selu", (ins F64Attr:$alpha, F64Attr:$gamma),
                                  [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let description = "`gamma * (x <= 0 ? alpha * (exp(x) - 1) : x)`.";
}
def MLG_HardSigmoidOp
    : MLG_ParamUnaryOp<"hard_sigmoid", (ins F64Attr:$alpha, F64Attr:$beta),
                       [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let description = "`max(0, min(1, alpha * x + beta))`.";
}

def MLG_ClipOp : MLG_Op<"clip", [Pure, SameOperandsAndResultType,
                                 InferTypeOpInterface, MLG_InPlaceElementwise,
                                 DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "clamp to [min, max]";
  let description = [{
    Clamps every element to `[min, max]`; a missing bound is unbounded. ONNX
    passes the bounds as scalar operands; the importer requires them to be
    constants and stores them as attributes.

    ```mlir
    %y = mlg.clip %x {max = 6.0 : f64, min = 0.0 : f64} : tensor<4xf32>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$input, OptionalAttr<F64Attr>:$min,
                   OptionalAttr<F64Attr>:$max);
  let results = (outs MLG_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasFolder = 1;
}

def MLG_CastOp : MLG_Op<"cast", [Pure, SameOperandsAndResultShape,
                                 MLG_InPlaceElementwise,
                                 DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "element type conversion";
  let description = [{
    Converts every element to the result's element type with ONNX's rules
    (floats to integers truncate toward zero; to bool is `x != 0`).

    ```mlir
    %y = mlg.cast %x : tensor<4xf32> to tensor<4xi64>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($output)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Binary, with multidirectional broadcasting
//===----------------------------------------------------------------------===//

class MLG_BinaryOp<string mnemonic, Type lhsType, Type rhsType, Type resultType,
                   list<Trait> traits = []>
    : MLG_InferredOp<mnemonic, !listconcat(traits, [MLG_InPlaceElementwise])> {
  let summary = "elementwise " # mnemonic # " with broadcasting";
  let description = [{
    Elementwise `}] # mnemonic # [{` with ONNX (NumPy) multidirectional
    broadcasting: shapes are aligned at the right and each pair of dimensions
    must be equal or one of them 1.

    ```mlir
    %z = mlg.}] # mnemonic # [{ %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins lhsType:$lhs, rhsType:$rhs);
  let results = (outs resultType:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

class MLG_ArithOp<string mnemonic, list<Trait> traits = []>
    : MLG_BinaryOp<mnemonic, MLG_NumericTensor, MLG_NumericTensor,
                   MLG_NumericTensor, !listconcat(traits, [SameOperandsElementType,
                   SameOperandsAndResultElementType])>;
class MLG_CompareOp<string mnemonic>
    : MLG_BinaryOp<mnemonic, MLG_Tensor, MLG_Tensor, MLG_BoolTensor,
                   [SameOperandsElementType]>;
class MLG_LogicOp<string mnemonic>
    : MLG_BinaryOp<mnemonic, MLG_BoolTensor, MLG_BoolTensor, MLG_BoolTensor,
                   [Commutative]>;

def MLG_AddOp : MLG_ArithOp<"add", [Commutative, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_SubOp : MLG_ArithOp<"sub", [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_MulOp : MLG_ArithOp<"mul", [Commutative, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_DivOp : MLG_ArithOp<"div", [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_MaxOp : MLG_ArithOp<"max", [Commutative, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_MinOp : MLG_ArithOp<"min", [Commutative, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ModOp : MLG_ArithOp<"mod", [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let arguments = (ins MLG_NumericTensor:$lhs, MLG_NumericTensor:$rhs,
                   BoolAttr:$fmod);
}
// The exponent may have another element type than the base; the result has
// the base's.
def MLG_PowOp : MLG_BinaryOp<"pow", MLG_NumericTensor, MLG_NumericTensor,
                             MLG_NumericTensor, [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_EqualOp : MLG_CompareOp<"equal">;
def MLG_LessOp : MLG_CompareOp<"less">;
def MLG_LessOrEqualOp : MLG_CompareOp<"less_or_equal">;
def MLG_GreaterOp : MLG_CompareOp<"greater">;
def MLG_GreaterOrEqualOp : MLG_CompareOp<"greater_or_equal">;
def MLG_AndOp : MLG_LogicOp<"and">;
def MLG_OrOp : MLG_LogicOp<"or">;
def MLG_XorOp : MLG_LogicOp<"xor">;

def MLG_WhereOp : MLG_InferredOp<"where", [MLG_InPlaceElementwise,
                                           DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    `condition ? x : y`, all three broadcast together.

    ```mlir
    %z = mlg.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins MLG_BoolTensor:$condition, MLG_Tensor:$x, MLG_Tensor:$y);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$condition `,` $x `,` $y attr-dict `:` "
                       "functional-type(operands, results)";
  let hasFolder = 1;
}

#endif // MLG_DIALECT_MLG_MLGELEMENTWISEOPS_TD
