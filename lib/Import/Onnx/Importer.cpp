//===- Importer.cpp - ONNX model to the mlg dialect -----------------------===//
//
// importOnnxFile: map the file (ModelFile), check the model with our own
// stricter rules first (names, order, supported operators, external data),
// then with libonnx's checker, bind input shapes, and import the nodes in
// topological order. Each node's operator is imported by the function the
// OpRegistry holds for it.
//
// Example: a Conv node with an initializer weight becomes
//
//   ml_program.global private mutable @"conv1.weight"(#ml_program.extern :
//       tensor<64x3x7x7xf32>) : tensor<64x3x7x7xf32>
//   func.func @forward(%arg0: tensor<8x3x224x224xf32> {mlg.name = "input"}) ...
//   {
//     %w = ml_program.global_load @"conv1.weight" : tensor<64x3x7x7xf32>
//     %0 = mlg.conv %arg0, %w {...} : (...) -> tensor<8x64x112x112xf32>
//
//===----------------------------------------------------------------------===//

#include "GraphImporter.h"

#include "Checker.h"
#include "NodeContext.h"
#include "OpRegistry.h"
#include "Tensors.h"

#include "mlg/Dialect/MLG/MLGDialect.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"

#include <functional>
#include <queue>

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

/// Initializers that are not floating-point tensors of rank >= 1 (integer
/// tables, scalars) are imported as constants up to this many elements.
static constexpr int64_t kMaxConstantInitializerElements = 4096;
/// The largest value read to serve as a compile-time constant.
static constexpr int64_t kMaxCompileTimeConstantBytes = 64 << 20;

static std::string nodeName(const onnx::NodeProto &node, int index) {
  if (!node.name().empty())
    return node.name();
  return node.op_type() + " #" + std::to_string(index);
}

static StringRef domainName(StringRef domain) {
  return domain.empty() ? "ai.onnx" : domain;
}

GraphImporter::GraphImporter(ModelFile &file, MLIRContext *context,
                             const OnnxImportOptions &options)
    : file(file), graph(file.model().graph()), context(context),
      options(options), builder(context),
      fileLoc(FileLineColLoc::get(context, file.path(), 0, 0)) {}

Location GraphImporter::nodeLoc(const onnx::NodeProto &node, int index) {
  return NameLoc::get(StringAttr::get(context, nodeName(node, index)), fileLoc);
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::validateModel() {
  const onnx::ModelProto &model = file.model();
  if (!model.has_graph())
    return emitError(fileLoc) << "the file holds no graph: not an ONNX model";
  if (model.ir_version() <= 0)
    return emitError(fileLoc)
           << "the model declares no IR version: not an ONNX model";
  for (const auto &opset : model.opset_import()) {
    StringRef domain =
        opset.domain() == "ai.onnx" ? "" : StringRef(opset.domain());
    if (opset.version() < 1)
      return emitError(fileLoc)
             << "the model imports opset " << opset.version() << " of domain '"
             << domainName(domain) << "', which does not exist";
    opsets[domain] = opset.version();
  }
  if (!opsets.count("")) {
    // Only a graph without default-domain nodes may omit that opset; those
    // nodes would be unsupported anyway, and validateGraph names them.
    bool usesDefault = llvm::any_of(model.graph().node(), [](const auto &node) {
      return node.domain().empty() || node.domain() == "ai.onnx";
    });
    if (usesDefault && model.ir_version() >= 3)
      return emitError(fileLoc)
             << "the model declares no opset for the default ONNX domain";
    opsets[""] = 1;
  }
  if (opsets[""] > kMaxOnnxOpset)
    return emitError(fileLoc)
           << "the model uses ONNX opset " << opsets[""]
           << "; this build of mlg supports opsets up to " << kMaxOnnxOpset;
  return success();
}

LogicalResult GraphImporter::validateGraph(SmallVectorImpl<int> &order) {
  // Who defines each name: -1 for graph inputs and initializers.
  llvm::StringMap<int> producer;
  for (const onnx::TensorProto &init : graph.initializer()) {
    if (init.name().empty())
      return emitError(fileLoc) << "an initializer has no name";
    if (!producer.try_emplace(init.name(), -1).second)
      return emitError(fileLoc)
             << "initializer '" << init.name() << "' is defined twice";
    initializers[init.name()] = &init;
    if (failed(tensorTypeOf(init, context, fileLoc,
                            "initializer '" + init.name() + "'")))
      return failure();
  }
  llvm::StringSet<> inputNames;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (!inputNames.insert(input.name()).second)
      return emitError(fileLoc)
             << "graph input '" << input.name() << "' is declared twice";
    // An input with an initializer of the same name is a parameter with a
    // default value (IR version < 4 lists every weight as an input).
    if (!initializers.count(input.name())) {
      producer[input.name()] = -1;
      inputs.push_back(&input);
    }
  }

  const OpRegistry &registry = OpRegistry::get();
  struct Unsupported {
    std::string domain, opType, node;
    int count = 0;
  };
  std::vector<Unsupported> unsupported;
  int numNodes = graph.node_size();
  for (int i = 0; i < numNodes; ++i) {
    const onnx::NodeProto &node = graph.node(i);
    StringRef domain =
        node.domain() == "ai.onnx" ? "" : StringRef(node.domain());
    if (!domain.empty() || !registry.lookup(node.op_type(), kMaxOnnxOpset)) {
      auto it = llvm::find_if(unsupported, [&](const Unsupported &u) {
        return u.domain == domainName(domain) && u.opType == node.op_type();
      });
      if (it == unsupported.end())
        unsupported.push_back(
            {domainName(domain).str(), node.op_type(), nodeName(node, i), 1});
      else
        ++it->count;
    }
    for (const std::string &out : node.output()) {
      if (out.empty())
        continue;
      auto [it, inserted] = producer.try_emplace(out, i);
      if (!inserted) {
        InFlightDiagnostic diag = emitError(nodeLoc(node, i))
                                  << "writes '" << out << "', which ";
        if (it->second < 0)
          diag << "is already a graph input or initializer";
        else
          diag << "node '" << nodeName(graph.node(it->second), it->second)
               << "' already defines";
        return failure();
      }
    }
  }
  if (!unsupported.empty()) {
    for (const Unsupported &u : unsupported) {
      StringRef domain = u.domain == "ai.onnx" ? "" : StringRef(u.domain);
      InFlightDiagnostic diag = emitError(fileLoc)
                                << "unsupported operator '" << u.opType
                                << "' (domain '" << u.domain << "', opset "
                                << opsets.lookup(domain) << ") in node '"
                                << u.node << "'";
      if (u.count > 1)
        diag << " and " << (u.count - 1) << " more node(s)";
    }
    InFlightDiagnostic note = emitRemark(fileLoc)
                              << "mlg imports these ONNX operators: ";
    llvm::interleaveComma(registry.names(), note);
    return failure();
  }

  // Kahn's algorithm: every node after the producers of its inputs.
  SmallVector<int> pending(numNodes, 0);
  SmallVector<SmallVector<int>> users(numNodes);
  for (int i = 0; i < numNodes; ++i) {
    const onnx::NodeProto &node = graph.node(i);
    for (const std::string &in : node.input()) {
      if (in.empty())
        continue;
      auto it = producer.find(in);
      if (it == producer.end())
        return emitError(nodeLoc(node, i))
               << node.op_type() << " reads '" << in
               << "', which no node, graph input or initializer defines";
      if (it->second >= 0) {
        ++pending[i];
        users[it->second].push_back(i);
      }
    }
  }
  // The ready node listed first goes first, so a sorted graph keeps the
  // file's order: an exporter lists each op next to its use, and taking
  // ready nodes breadth first would hoist every op that reads only
  // initializers (a Linear's transposed weight) to the front, keeping its
  // result, and in training its gradient, alive across the whole step.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < numNodes; ++i)
    if (pending[i] == 0)
      ready.push(i);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    order.push_back(i);
    for (int u : users[i])
      if (--pending[u] == 0)
        ready.push(u);
  }
  if (static_cast<int>(order.size()) != numNodes) {
    for (int i = 0; i < numNodes; ++i)
      if (pending[i] > 0)
        return emitError(nodeLoc(graph.node(i), i))
               << "the graph has a cycle through this "
               << graph.node(i).op_type() << " node";
  }
  for (const onnx::ValueInfoProto &output : graph.output()) {
    if (!producer.count(output.name()))
      return emitError(fileLoc) << "graph output '" << output.name()
                                << "' is not computed by any node";
  }
  return success();
}

LogicalResult GraphImporter::checkInitializerData() {
  // Every initializer's data is checked now, used or not: a hostile external
  // path or a truncated tensor is rejected before anything reads the model.
  for (const onnx::TensorProto &init : graph.initializer())
    if (failed(
            file.checkData(init, fileLoc, "initializer '" + init.name() + "'")))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Signature
//===----------------------------------------------------------------------===//

/// Reads a serialized TensorProto for --bind-input.
static FailureOr<onnx::TensorProto> readTensorFile(StringRef path,
                                                   Location loc) {
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(path, status) ||
      status.type() != llvm::sys::fs::file_type::regular_file)
    return emitError(loc) << "cannot read tensor file '" << path
                          << "': not a regular file";
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  onnx::TensorProto tensor;
  if (!buffer || (*buffer)->getBufferSize() > static_cast<size_t>(INT_MAX) ||
      !tensor.ParseFromArray((*buffer)->getBufferStart(),
                             static_cast<int>((*buffer)->getBufferSize())))
    return emitError(loc) << "'" << path
                          << "' is not a serialized ONNX TensorProto";
  return tensor;
}

LogicalResult GraphImporter::createSignature() {
  llvm::StringMap<const onnx::ValueInfoProto *> byName;
  for (const onnx::ValueInfoProto *input : inputs)
    byName[input->name()] = input;
  auto listInputs = [&](InFlightDiagnostic &diag) {
    diag << " (the model's inputs: ";
    llvm::interleaveComma(inputs, diag, [&](const onnx::ValueInfoProto *in) {
      diag << "'" << in->name() << "'";
    });
    diag << ")";
  };
  llvm::StringMap<std::vector<int64_t>> explicitShapes;
  for (const auto &[name, dims] : options.inputShapes) {
    if (!byName.count(name)) {
      InFlightDiagnostic diag = emitError(fileLoc)
                                << "--input-shape names '" << name
                                << "', which is not an input of the model";
      listInputs(diag);
      return failure();
    }
    explicitShapes[name] = dims;
  }
  llvm::StringMap<std::string> bound;
  for (const auto &[name, path] : options.boundInputs) {
    if (!byName.count(name)) {
      InFlightDiagnostic diag = emitError(fileLoc)
                                << "--bind-input names '" << name
                                << "', which is not an input of the model";
      listInputs(diag);
      return failure();
    }
    bound[name] = path;
  }

  // Declared dims: a value, a symbol, or unknown (-1 with an empty symbol).
  struct Dim {
    int64_t value = -1;
    std::string symbol;
  };
  llvm::StringMap<int64_t> symbols;
  auto bindSymbol = [&](const Dim &dim, int64_t value, StringRef input,
                        size_t index) -> LogicalResult {
    if (dim.symbol.empty())
      return success();
    auto [it, inserted] = symbols.try_emplace(dim.symbol, value);
    if (!inserted && it->second != value)
      return emitError(fileLoc)
             << "dimension '" << dim.symbol << "' is bound to both "
             << it->second << " and " << value << " (input '" << input
             << "', dimension " << index << ")";
    return success();
  };

  SmallVector<SmallVector<Dim>> declared(inputs.size());
  SmallVector<bool> hasShape(inputs.size(), false);
  SmallVector<Type> elementTypes(inputs.size());
  for (auto [i, input] : llvm::enumerate(inputs)) {
    if (!input->type().has_tensor_type()) {
      const char *kind = input->type().has_sequence_type()   ? "a sequence"
                         : input->type().has_optional_type() ? "an optional"
                         : input->type().has_map_type()      ? "a map"
                                                             : "an unknown";
      return emitError(fileLoc)
             << "input '" << input->name() << "' has " << kind
             << " type; mlg supports tensor inputs only";
    }
    const onnx::TypeProto::Tensor &tensor = input->type().tensor_type();
    elementTypes[i] = elementTypeOf(tensor.elem_type(), context);
    if (!elementTypes[i])
      return emitError(fileLoc)
             << "input '" << input->name() << "' has element type "
             << dataTypeName(tensor.elem_type())
             << ", which mlg does not support";
    hasShape[i] = tensor.has_shape();
    for (const auto &d : tensor.shape().dim()) {
      Dim dim;
      if (d.has_dim_value()) {
        if (d.dim_value() < 0)
          return emitError(fileLoc)
                 << "input '" << input->name() << "' has a negative dimension "
                 << d.dim_value();
        dim.value = d.dim_value();
      } else if (d.has_dim_param()) {
        dim.symbol = d.dim_param();
      }
      declared[i].push_back(dim);
    }
  }

  // Pass 1: explicit shapes and bound tensors fix symbols; --batch-size fixes
  // leading dimensions.
  SmallVector<SmallVector<int64_t>> shapes(inputs.size());
  SmallVector<std::optional<onnx::TensorProto>> boundTensors(inputs.size());
  for (auto [i, input] : llvm::enumerate(inputs)) {
    std::optional<std::vector<int64_t>> given;
    StringRef source;
    if (auto it = bound.find(input->name()); it != bound.end()) {
      FailureOr<onnx::TensorProto> tensor = readTensorFile(it->second, fileLoc);
      if (failed(tensor))
        return failure();
      if (elementTypeOf(tensor->data_type(), context) != elementTypes[i])
        return emitError(fileLoc)
               << "the tensor bound to input '" << input->name() << "' is "
               << dataTypeName(tensor->data_type()) << " but the input is "
               << dataTypeName(input->type().tensor_type().elem_type());
      given =
          std::vector<int64_t>(tensor->dims().begin(), tensor->dims().end());
      boundTensors[i] = std::move(*tensor);
      source = "the bound tensor";
    } else if (auto it = explicitShapes.find(input->name());
               it != explicitShapes.end()) {
      given = it->second;
      source = "--input-shape";
    }
    if (given) {
      if (hasShape[i] && given->size() != declared[i].size())
        return emitError(fileLoc)
               << source << " gives input '" << input->name() << "' rank "
               << given->size() << ", but the model declares rank "
               << declared[i].size();
      for (size_t d = 0; d < given->size(); ++d) {
        if ((*given)[d] < 0)
          return emitError(fileLoc)
                 << source << " gives input '" << input->name()
                 << "' a negative dimension";
        if (!hasShape[i])
          continue;
        const Dim &dim = declared[i][d];
        if (dim.value >= 0 && dim.value != (*given)[d])
          return emitError(fileLoc)
                 << source << " gives dimension " << d << " of input '"
                 << input->name() << "' size " << (*given)[d]
                 << ", but the model fixes it at " << dim.value;
        if (failed(bindSymbol(dim, (*given)[d], input->name(), d)))
          return failure();
      }
      shapes[i].assign(given->begin(), given->end());
      continue;
    }
    if (!hasShape[i])
      return emitError(fileLoc) << "input '" << input->name()
                                << "' has no declared shape; give it with "
                                   "--input-shape="
                                << input->name() << ":AxBx...";
    if (options.batchSize && !declared[i].empty() && declared[i][0].value < 0) {
      declared[i][0].value = *options.batchSize;
      if (failed(
              bindSymbol(declared[i][0], *options.batchSize, input->name(), 0)))
        return failure();
    }
  }
  // Pass 2: the remaining dims take their symbol's value or are an error.
  for (auto [i, input] : llvm::enumerate(inputs)) {
    if (!shapes[i].empty() || boundTensors[i] ||
        explicitShapes.count(input->name()))
      continue;
    for (auto [d, dim] : llvm::enumerate(declared[i])) {
      if (dim.value >= 0) {
        shapes[i].push_back(dim.value);
        continue;
      }
      if (auto it = symbols.find(dim.symbol);
          !dim.symbol.empty() && it != symbols.end()) {
        shapes[i].push_back(it->second);
        continue;
      }
      InFlightDiagnostic diag = emitError(fileLoc) << "dimension " << d;
      if (!dim.symbol.empty())
        diag << " ('" << dim.symbol << "')";
      diag << " of input '" << input->name()
           << "' is dynamic; bind it with --input-shape=" << input->name()
           << ":AxBx...";
      if (d == 0)
        diag << " or --batch-size=N";
      return failure();
    }
  }

  // The module and the function.
  module = ModuleOp::create(fileLoc);
  module->setAttr("mlg.source", StringAttr::get(context, file.path()));
  module->setAttr("mlg.onnx_opset", builder.getI64IntegerAttr(opsets[""]));
  if (!file.model().producer_name().empty())
    module->setAttr(
        "mlg.producer",
        StringAttr::get(context, StringRef(file.model().producer_name() + " " +
                                           file.model().producer_version())
                                     .trim()));
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<unsigned> argOf(inputs.size(), ~0u);
  for (auto [i, input] : llvm::enumerate(inputs)) {
    FailureOr<RankedTensorType> type =
        makeTensorType(shapes[i], input->type().tensor_type().elem_type(),
                       fileLoc, "input '" + input->name() + "'");
    if (failed(type))
      return failure();
    shapes[i].assign(type->getShape().begin(), type->getShape().end());
    if (boundTensors[i])
      continue;
    argOf[i] = argTypes.size();
    argTypes.push_back(*type);
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "mlg.name", builder.getStringAttr(input->name()))));
  }
  builder.setInsertionPointToEnd(module.getBody());
  func = func::FuncOp::create(builder, fileLoc, options.functionName,
                              builder.getFunctionType(argTypes, {}));
  func.setAllArgAttrs(argAttrs);
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  for (auto [i, input] : llvm::enumerate(inputs)) {
    if (argOf[i] != ~0u) {
      values[input->name()] = entry->getArgument(argOf[i]);
      continue;
    }
    auto type = RankedTensorType::get(shapes[i], elementTypes[i]);
    FailureOr<TensorBytes> bytes =
        file.getBytes(*boundTensors[i], fileLoc,
                      "the tensor bound to input '" + input->name() + "'",
                      /*inModel=*/false);
    if (failed(bytes))
      return failure();
    values[input->name()] = getConstant(denseFromBytes(type, bytes->data));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

template <typename Fn> auto GraphImporter::inPrologue(Fn &&fn) {
  OpBuilder::InsertionGuard guard(builder);
  Block &entry = func.getBody().front();
  if (prologueEnd)
    builder.setInsertionPointAfter(prologueEnd);
  else
    builder.setInsertionPointToStart(&entry);
  auto result = fn();
  prologueEnd = result.getDefiningOp();
  return result;
}

Value GraphImporter::getConstant(DenseElementsAttr value) {
  Value &slot = constants[value];
  if (!slot)
    slot = inPrologue([&]() -> Value {
      return mlg::ConstantOp::create(builder, fileLoc, value);
    });
  return slot;
}

Value GraphImporter::importInitializer(const onnx::TensorProto &tensor) {
  Location loc = NameLoc::get(StringAttr::get(context, tensor.name()), fileLoc);
  std::string what = "initializer '" + tensor.name() + "'";
  RankedTensorType type = *tensorTypeOf(tensor, context, loc, what);
  bool isParameter =
      isa<FloatType>(type.getElementType()) && type.getRank() > 0;
  if (!isParameter &&
      type.getNumElements() <= kMaxConstantInitializerElements) {
    FailureOr<TensorBytes> bytes = file.getBytes(tensor, loc, what);
    if (failed(bytes))
      return nullptr;
    return getConstant(denseFromBytes(type, bytes->data));
  }
  if (tensor.name() == options.functionName) {
    emitError(loc) << "initializer '" << tensor.name()
                   << "' has the name of the entry function";
    return nullptr;
  }
  Attribute initial = ml_program::ExternAttr::get(context, type);
  if (options.importWeights) {
    FailureOr<TensorBytes> bytes = file.getBytes(tensor, loc, what);
    if (failed(bytes))
      return nullptr;
    size_t align = *elementByteSize(type.getElementType());
    AsmResourceBlob blob;
    if (bytes->owner || bytes->storage) {
      // Mapped (or converted) bytes: the blob keeps their owner alive.
      blob = AsmResourceBlob(
          bytes->data, align,
          [owner = bytes->owner, storage = bytes->storage](void *, size_t,
                                                           size_t) {},
          /*dataIsMutable=*/false);
    } else {
      blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes->data, align,
                                                           false);
    }
    initial =
        DenseResourceElementsAttr::get(type, tensor.name(), std::move(blob));
  }
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(func);
    auto global = ml_program::GlobalOp::create(
        builder, loc, tensor.name(), type, /*is_mutable=*/isParameter, initial,
        builder.getStringAttr("private"));
    (void)global;
  }
  auto symbol = FlatSymbolRefAttr::get(context, tensor.name());
  return inPrologue([&]() -> Value {
    if (isParameter)
      return ml_program::GlobalLoadOp::create(builder, loc, type, symbol);
    return ml_program::GlobalLoadConstOp::create(builder, loc, type, symbol);
  });
}

void GraphImporter::markState(Value value, StringRef init) {
  auto load = value.getDefiningOp<ml_program::GlobalLoadOp>();
  if (!load)
    return;
  auto global = SymbolTable::lookupNearestSymbolFrom<ml_program::GlobalOp>(
      module, load.getGlobalAttr());
  if (!global)
    return;
  global->setAttr("mlg.role", builder.getStringAttr("state"));
  global->setAttr("mlg.init", builder.getStringAttr(init));
}

Value GraphImporter::lookup(StringRef name) {
  if (Value v = values.lookup(name))
    return v;
  auto it = initializers.find(name);
  if (it == initializers.end())
    return nullptr;
  Value v = importInitializer(*it->second);
  if (v)
    values[name] = v;
  return v;
}

FailureOr<DenseElementsAttr> GraphImporter::constantValueOf(StringRef name,
                                                            Location loc,
                                                            const Twine &what) {
  if (auto it = initializers.find(name); it != initializers.end()) {
    const onnx::TensorProto &tensor = *it->second;
    std::string desc = ("initializer '" + name + "'").str();
    RankedTensorType type = *tensorTypeOf(tensor, context, loc, desc);
    if (*checkedByteSizeOf(type) > kMaxCompileTimeConstantBytes)
      return emitError(loc) << what << " comes from " << desc
                            << ", which is too large to read at compile time";
    FailureOr<TensorBytes> bytes = file.getBytes(tensor, loc, desc);
    if (failed(bytes))
      return failure();
    return denseFromBytes(type, bytes->data);
  }
  Value value = lookup(name);
  if (!value)
    return emitError(loc) << what << " is missing";
  if (auto constant = value.getDefiningOp<mlg::ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue()))
      return dense;
  // Explain which graph inputs it depends on.
  llvm::SetVector<Value> seen;
  SmallVector<Value> work = {value};
  llvm::SetVector<StringRef> roots;
  while (!work.empty() && seen.size() < 10000) {
    Value v = work.pop_back_val();
    if (!seen.insert(v))
      continue;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (auto n =
              func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mlg.name"))
        roots.insert(n.getValue());
      continue;
    }
    llvm::append_range(work, v.getDefiningOp()->getOperands());
  }
  InFlightDiagnostic diag = emitError(loc)
                            << what << " must be known at compile time";
  if (roots.empty())
    return diag << ", but it is computed at run time";
  diag << ", but it depends on graph input";
  if (roots.size() > 1)
    diag << "s";
  for (StringRef root : roots)
    diag << " '" << root << "'";
  diag << "; bind " << (roots.size() > 1 ? "them" : "it") << " with ";
  llvm::interleave(
      roots, diag,
      [&](StringRef root) { diag << "--bind-input=" << root << "=FILE"; }, " ");
  return diag;
}

//===----------------------------------------------------------------------===//
// Nodes, results and cleanup
//===----------------------------------------------------------------------===//

LogicalResult GraphImporter::importNodes(ArrayRef<int> order) {
  const OpRegistry &registry = OpRegistry::get();
  Block &entry = func.getBody().front();
  for (int index : order) {
    const onnx::NodeProto &node = graph.node(index);
    Location loc = nodeLoc(node, index);
    int64_t opset = opsets[""];
    OpImportFn fn = registry.lookup(node.op_type(), opset);
    if (!fn)
      return emitError(loc) << "operator '" << node.op_type()
                            << "' is not supported at opset " << opset;
    for (const auto &attr : node.attribute())
      if (!attr.ref_attr_name().empty())
        return emitError(loc) << "attribute '" << attr.name()
                              << "' refers to a function attribute, which mlg "
                                 "does not support";
    // Resolve every input first (importing initializers on first use), so an
    // op importer only ever sees values.
    for (const std::string &in : node.input())
      if (!in.empty() && !lookup(in))
        return failure();
    builder.setInsertionPointToEnd(&entry);
    NodeContext ctx(*this, node, opset, loc);
    if (failed(fn(ctx)))
      return failure();
    for (const std::string &out : node.output())
      if (!out.empty() && !values.count(out))
        return emitError(loc) << node.op_type() << " output '" << out
                              << "' is not supported by mlg";
  }
  return success();
}

LogicalResult GraphImporter::createReturn() {
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Value v = lookup(output.name());
    if (!v)
      return failure();
    auto type = cast<RankedTensorType>(v.getType());
    if (output.type().has_tensor_type()) {
      const auto &declared = output.type().tensor_type();
      Type element = elementTypeOf(declared.elem_type(), context);
      if (declared.elem_type() != 0 && element != type.getElementType())
        return emitError(fileLoc)
               << "graph output '" << output.name() << "' is declared as "
               << dataTypeName(declared.elem_type()) << " but computes "
               << type;
      if (declared.has_shape()) {
        bool ok = declared.shape().dim_size() == type.getRank();
        for (int d = 0; ok && d < declared.shape().dim_size(); ++d) {
          const auto &dim = declared.shape().dim(d);
          ok = !dim.has_dim_value() || dim.dim_value() == type.getDimSize(d);
        }
        if (!ok)
          return emitError(fileLoc)
                 << "graph output '" << output.name()
                 << "' is declared with another shape than the " << type
                 << " it computes";
      }
    }
    results.push_back(v);
    resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "mlg.name", builder.getStringAttr(output.name()))));
  }
  builder.setInsertionPointToEnd(&func.getBody().front());
  func::ReturnOp::create(builder, fileLoc, results);
  func.setType(builder.getFunctionType(func.getArgumentTypes(),
                                       ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  return success();
}

void GraphImporter::removeUnused() {
  Block &entry = func.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(entry))) {
    if (op.use_empty() && !op.hasTrait<OpTrait::IsTerminator>() &&
        (isMemoryEffectFree(&op) ||
         isa<ml_program::GlobalLoadOp, ml_program::GlobalLoadConstOp>(op)))
      op.erase();
  }
  llvm::StringSet<> used;
  func.walk([&](Operation *op) {
    if (auto load = dyn_cast<ml_program::GlobalLoadOp>(op))
      used.insert(load.getGlobal().getLeafReference());
    if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op))
      used.insert(load.getGlobal().getLeafReference());
  });
  for (auto global :
       llvm::make_early_inc_range(module.getOps<ml_program::GlobalOp>()))
    if (!used.contains(global.getSymName()))
      global.erase();
}

LogicalResult GraphImporter::validate() {
  if (failed(validateModel()) || failed(validateGraph(order)) ||
      failed(checkInitializerData()))
    return failure();
  return runChecker();
}

LogicalResult GraphImporter::runChecker() {
  // libonnx's checker, on a copy in which the initializers whose data is
  // not inline (left in the file, or external data, which mlg has checked by
  // its own stricter rules) are graph inputs instead: the checker would read
  // them relative to the working directory. Graph inputs and outputs without
  // a shape get an empty one: ONNX allows unknown shapes, and libonnx 1.12
  // wrongly insists on the field.
  {
    onnx::ModelProto copy = file.model();
    if (copy.ir_version() > 8)
      copy.set_ir_version(8);
    onnx::GraphProto *g = copy.mutable_graph();
    for (auto *infos : {g->mutable_input(), g->mutable_output()})
      for (onnx::ValueInfoProto &info : *infos)
        if (info.type().has_tensor_type() &&
            !info.type().tensor_type().has_shape())
          info.mutable_type()->mutable_tensor_type()->mutable_shape();
    llvm::StringSet<> declared;
    for (const onnx::ValueInfoProto &input : g->input())
      declared.insert(input.name());
    auto *inits = g->mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i) {
      const onnx::TensorProto &init = inits->Get(i);
      if (!file.hasDataInFile(init) &&
          init.data_location() != onnx::TensorProto::EXTERNAL)
        continue;
      if (!declared.contains(init.name())) {
        onnx::ValueInfoProto *input = g->add_input();
        input->set_name(init.name());
        auto *tensor = input->mutable_type()->mutable_tensor_type();
        tensor->set_elem_type(init.data_type());
        auto *shape = tensor->mutable_shape();
        for (int64_t d : init.dims())
          shape->add_dim()->set_dim_value(d);
      }
      inits->DeleteSubrange(i, 1);
    }
    if (std::optional<std::string> error = runOnnxChecker(copy)) {
      // libonnx appends "\n\n==> Context: ..." to its messages.
      std::string message = StringRef(*error).trim().str();
      std::replace(message.begin(), message.end(), '\n', ' ');
      return emitError(fileLoc)
             << "the ONNX checker rejects the model: " << message;
    }
  }
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::import() {
  if (failed(createSignature()) || failed(importNodes(order)) ||
      failed(createReturn()))
    return nullptr;
  removeUnused();
  if (failed(verify(module)))
    return nullptr;
  return OwningOpRef<ModuleOp>(module);
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

void mlg::registerOnnxImportDialects(DialectRegistry &registry) {
  registry
      .insert<MLGDialect, func::FuncDialect, ml_program::MLProgramDialect>();
}

std::vector<std::string> mlg::getSupportedOnnxOps() {
  return OpRegistry::get().names();
}

OwningOpRef<ModuleOp> mlg::importOnnxFile(StringRef path, MLIRContext *context,
                                          const OnnxImportOptions &options) {
  context->loadDialect<MLGDialect, func::FuncDialect,
                       ml_program::MLProgramDialect>();
  Location loc = FileLineColLoc::get(context, path, 0, 0);
  FailureOr<std::unique_ptr<ModelFile>> file = ModelFile::open(path, loc);
  if (failed(file))
    return nullptr;
  {
    GraphImporter importer(**file, context, options);
    if (failed(importer.validate()))
      return nullptr;
    int64_t opset = importer.getOpset();
    if (opset >= 7)
      return importer.import();
    // Models older than opset 7 (legacy broadcasting attributes and the
    // like) go through libonnx's version converter, which expects a model
    // that passed the checker (it crashes on malformed ones).
    if (failed((*file)->inlineAllData(loc)))
      return nullptr;
    if (std::optional<std::string> error = convertOpset((*file)->model(), 7)) {
      emitError(loc) << "the model uses ONNX opset " << opset
                     << " and libonnx could not convert it to opset 7: "
                     << *error;
      return nullptr;
    }
  }
  GraphImporter importer(**file, context, options);
  if (failed(importer.validate()))
    return nullptr;
  return importer.import();
}

bool mlg::parseInputShapeSpec(StringRef spec, std::string &name,
                              std::vector<int64_t> &dims, std::string &error) {
  auto [head, tail] = spec.rsplit(':');
  if (head.empty() || head.size() == spec.size()) {
    error = "expected NAME:AxBxC, got '" + spec.str() + "'";
    return false;
  }
  name = head.str();
  dims.clear();
  if (tail.empty())
    return true; // a scalar
  SmallVector<StringRef> parts;
  tail.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t d;
    if (part.getAsInteger(10, d) || d < 0) {
      error = "'" + part.str() + "' in '" + spec.str() +
              "' is not a non-negative dimension";
      return false;
    }
    dims.push_back(d);
  }
  return true;
}

bool mlg::parseBindInputSpec(StringRef spec, std::string &name,
                             std::string &path, std::string &error) {
  auto [head, tail] = spec.split('=');
  if (head.empty() || tail.empty()) {
    error = "expected NAME=FILE, got '" + spec.str() + "'";
    return false;
  }
  name = head.str();
  path = tail.str();
  return true;
}
