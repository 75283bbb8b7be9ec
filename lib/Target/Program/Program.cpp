//===- Program.cpp - runtime programs to and from .mlgp files -------------===//
//
// Writing walks the program body in order: each buffer, persistent tensor
// and constant becomes a Tensor (persistent tensors and constants also get
// their own table entries, persistent ones once per name), each step a Step
// with its attributes as typed values, inputs and outputs Bindings. Reading
// emits the tensors in table order, then the inputs, the steps and the
// outputs, so writing what was read gives the same bytes.
//
//===----------------------------------------------------------------------===//

#include "mlg/Target/Program/Program.h"

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"
#include "mlg/Dialect/MLGRT/MLGRTOps.h"
#include "mlg/InitAll.h"

#include "mlg_rt/program_file.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace mlg;
namespace pb = mlg::program;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

static pb::DataType dataTypeOf(Type type) {
  if (type.isF32())
    return pb::FLOAT32;
  if (type.isF64())
    return pb::FLOAT64;
  if (type.isF16())
    return pb::FLOAT16;
  if (type.isBF16())
    return pb::BFLOAT16;
  if (type.isInteger(1))
    return pb::BOOL;
  if (auto i = dyn_cast<IntegerType>(type)) {
    bool u = i.isUnsigned();
    switch (i.getWidth()) {
    case 8:
      return u ? pb::UINT8 : pb::INT8;
    case 16:
      return u ? pb::UINT16 : pb::INT16;
    case 32:
      return u ? pb::UINT32 : pb::INT32;
    case 64:
      return u ? pb::UINT64 : pb::INT64;
    }
  }
  return pb::DATA_TYPE_UNSPECIFIED;
}

static Type typeOf(pb::DataType dtype, MLIRContext *ctx) {
  Builder b(ctx);
  auto u = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  switch (dtype) {
  case pb::FLOAT32:
    return b.getF32Type();
  case pb::FLOAT64:
    return b.getF64Type();
  case pb::FLOAT16:
    return b.getF16Type();
  case pb::BFLOAT16:
    return b.getBF16Type();
  case pb::BOOL:
    return b.getI1Type();
  case pb::INT8:
    return b.getI8Type();
  case pb::INT16:
    return b.getI16Type();
  case pb::INT32:
    return b.getI32Type();
  case pb::INT64:
    return b.getI64Type();
  case pb::UINT8:
    return u(8);
  case pb::UINT16:
    return u(16);
  case pb::UINT32:
    return u(32);
  case pb::UINT64:
    return u(64);
  default:
    return nullptr;
  }
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {
class ProgramWriter {
public:
  explicit ProgramWriter(rt::ProgramOp program) : program(program) {}

  LogicalResult write(pb::Program &out) {
    out.set_name(program.getSymName().str());
    out.set_arena_bytes(program.getArenaSize());
    out.set_num_streams(program.getNumStreams());
    out.set_num_events(program.getNumEvents());
    out.set_host_bytes(program.getHostSize().value_or(0));
    out.set_memory_budget(program.getMemoryBudget().value_or(0));
    out.set_producer("mlg");
    if (auto source = program.getSource())
      out.set_source(source->str());
    for (Operation &op : program.getBody().front())
      if (failed(visit(op, out)))
        return failure();
    return success();
  }

private:
  LogicalResult tensor(Value value, pb::Program &out, pb::Tensor **created) {
    auto type = cast<MemRefType>(value.getType());
    pb::DataType dtype = dataTypeOf(type.getElementType());
    if (dtype == pb::DATA_TYPE_UNSPECIFIED)
      return value.getDefiningOp()->emitError("element type ")
             << type.getElementType() << " has no program encoding";
    index[value] = out.tensors_size();
    pb::Tensor *t = out.add_tensors();
    t->set_dtype(dtype);
    for (int64_t d : type.getShape())
      t->add_shape(d);
    *created = t;
    return success();
  }

  LogicalResult visit(Operation &op, pb::Program &out) {
    pb::Tensor *t = nullptr;
    if (auto buffer = dyn_cast<rt::BufferOp>(op)) {
      if (failed(tensor(buffer, out, &t)))
        return failure();
      t->set_arena_offset(buffer.getOffset());
      return success();
    }
    if (auto host = dyn_cast<rt::HostBufferOp>(op)) {
      if (failed(tensor(host, out, &t)))
        return failure();
      t->set_host_offset(host.getOffset());
      return success();
    }
    if (auto p = dyn_cast<rt::PersistentOp>(op)) {
      if (failed(tensor(p, out, &t)))
        return failure();
      auto [it, inserted] =
          persistents.try_emplace(p.getName(), out.persistents_size());
      if (inserted) {
        pb::Persistent *entry = out.add_persistents();
        entry->set_name(p.getName().str());
        entry->set_kind(static_cast<pb::Persistent::Kind>(p.getKind()));
        entry->set_dtype(t->dtype());
        *entry->mutable_shape() = t->shape();
        if (auto init = p.getInit())
          entry->set_init(static_cast<pb::Persistent::Init>(*init));
      }
      t->set_persistent(it->second);
      return success();
    }
    if (auto c = dyn_cast<rt::ConstantOp>(op)) {
      auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
      if (!dense)
        return op.emitError("only dense constants are carried in programs");
      if (failed(tensor(c, out, &t)))
        return failure();
      t->set_constant(out.constants_size());
      pb::Constant *entry = out.add_constants();
      entry->set_dtype(t->dtype());
      *entry->mutable_shape() = t->shape();
      entry->set_splat(dense.isSplat());
      if (dense.getElementType().isInteger(1)) {
        std::string bytes;
        for (bool v : dense.getValues<bool>()) {
          bytes.push_back(v ? 1 : 0);
          if (dense.isSplat())
            break;
        }
        entry->set_data(bytes);
      } else {
        ArrayRef<char> raw = dense.getRawData();
        entry->set_data(raw.data(), raw.size());
      }
      return success();
    }
    if (auto in = dyn_cast<rt::InputOp>(op)) {
      pb::Binding *b = out.add_inputs();
      b->set_name(in.getName().str());
      b->set_tensor(index.lookup(in.getBuffer()));
      return success();
    }
    if (auto o = dyn_cast<rt::OutputOp>(op)) {
      pb::Binding *b = out.add_outputs();
      b->set_name(o.getName().str());
      b->set_tensor(index.lookup(o.getBuffer()));
      return success();
    }
    if (auto step = dyn_cast<rt::StepOp>(op))
      return writeStep(step, *out.add_steps());
    return op.emitError("has no program encoding");
  }

  LogicalResult writeStep(rt::StepOp step, pb::Step &s) {
    s.set_kernel(step.getKernel().str());
    for (Value v : step.getInputs())
      s.add_inputs(index.lookup(v));
    for (Value v : step.getOutputs())
      s.add_outputs(index.lookup(v));
    for (NamedAttribute attr : step.getKernelAttrs()) {
      pb::Attribute *a = s.add_attributes();
      a->set_name(attr.getName().str());
      Attribute v = attr.getValue();
      if (auto b = dyn_cast<BoolAttr>(v))
        a->set_bool_value(b.getValue());
      else if (isa<UnitAttr>(v)) // a flag that is set
        a->set_bool_value(true);
      else if (auto i = dyn_cast<IntegerAttr>(v))
        a->set_int_value(i.getValue().getSExtValue());
      else if (auto f = dyn_cast<FloatAttr>(v))
        a->set_float_value(f.getValueAsDouble());
      else if (auto str = dyn_cast<StringAttr>(v))
        a->set_string_value(str.str());
      // mutable_ints() even for an empty list: it is a list, not a missing
      // value.
      else if (auto ints = dyn_cast<DenseI64ArrayAttr>(v))
        a->mutable_ints()->mutable_values()->Add(ints.asArrayRef().begin(),
                                                 ints.asArrayRef().end());
      else if (auto ints = dyn_cast<DenseI32ArrayAttr>(v))
        a->mutable_ints()->mutable_values()->Add(ints.asArrayRef().begin(),
                                                 ints.asArrayRef().end());
      else if (auto mode = dyn_cast<PadModeAttr>(v))
        a->set_string_value(stringifyPadMode(mode.getValue()).str());
      else if (auto dir = dyn_cast<RnnDirectionAttr>(v))
        a->set_string_value(stringifyRnnDirection(dir.getValue()).str());
      else
        return step.emitError("attribute '")
               << attr.getName().getValue() << "' has no program encoding";
    }
    if (auto ws = step.getWorkspace()) {
      s.set_has_workspace(true);
      s.set_workspace_offset((*ws)[0]);
      s.set_workspace_bytes((*ws)[1]);
    }
    s.set_stream(step.getStream());
    for (int64_t e : step.getWait())
      s.add_wait_events(e);
    s.set_record_event(step.getRecord());
    if (auto name = step.getName())
      s.set_name(name->str());
    if (auto release = step.getRelease())
      for (int64_t v : *release)
        s.add_release(v);
    return success();
  }

  rt::ProgramOp program;
  DenseMap<Value, uint32_t> index;
  llvm::StringMap<uint32_t> persistents;
};
} // namespace

LogicalResult mlg::writeProgram(ModuleOp module, raw_ostream &os) {
  auto programs = llvm::to_vector(module.getOps<rt::ProgramOp>());
  if (programs.size() != 1)
    return module.emitError(
               "a .mlgp file holds one mlgrt.program; the module has ")
           << programs.size() << " (run --mlg-lower-pipeline first)";
  pb::Program out;
  if (failed(ProgramWriter(programs.front()).write(out)))
    return failure();
  std::string bytes;
  if (!mlg_rt::encodeProgram(out, &bytes))
    return module.emitError("the program is too large to encode");
  os << bytes;
  return success();
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static Attribute readAttribute(const pb::Attribute &a, StringRef kernel,
                               Builder &b) {
  switch (a.value_case()) {
  case pb::Attribute::kIntValue:
    return b.getI64IntegerAttr(a.int_value());
  case pb::Attribute::kFloatValue:
    return b.getF64FloatAttr(a.float_value());
  case pb::Attribute::kBoolValue:
    return b.getBoolAttr(a.bool_value());
  case pb::Attribute::kStringValue:
    // Enums are written as their names; read them back as enums where the
    // kernel's op has one.
    if (a.name() == "mode")
      if (auto mode = symbolizePadMode(a.string_value()))
        return PadModeAttr::get(b.getContext(), *mode);
    if (a.name() == "direction")
      if (auto dir = symbolizeRnnDirection(a.string_value()))
        return RnnDirectionAttr::get(b.getContext(), *dir);
    return b.getStringAttr(a.string_value());
  case pb::Attribute::kInts: {
    SmallVector<int64_t> v(a.ints().values().begin(), a.ints().values().end());
    if (a.name() == "operandSegmentSizes")
      return b.getDenseI32ArrayAttr(SmallVector<int32_t>(v.begin(), v.end()));
    return b.getDenseI64ArrayAttr(v);
  }
  case pb::Attribute::kFloats: {
    SmallVector<double> v(a.floats().values().begin(),
                          a.floats().values().end());
    return b.getF64ArrayAttr(v);
  }
  default:
    return nullptr;
  }
}

OwningOpRef<ModuleOp> mlg::readProgram(StringRef bytes, Location loc) {
  MLIRContext *ctx = loc.getContext();
  ctx->loadDialect<MLGDialect, rt::MLGRTDialect>();
  pb::Program in;
  std::string error;
  if (!mlg_rt::decodeProgram(bytes.data(), bytes.size(), &in, &error)) {
    emitError(loc) << error;
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module->getBody());
  auto program = rt::ProgramOp::create(
      b, loc, in.name(), in.arena_bytes(), in.num_streams(), in.num_events(),
      in.source().empty() ? StringAttr() : b.getStringAttr(in.source()),
      in.host_bytes() ? b.getI64IntegerAttr(int64_t(in.host_bytes()))
                      : IntegerAttr(),
      in.memory_budget() ? b.getI64IntegerAttr(int64_t(in.memory_budget()))
                         : IntegerAttr());
  program.getBody().emplaceBlock();
  b.setInsertionPointToStart(&program.getBody().front());
  auto fail = [&](const Twine &message) -> OwningOpRef<ModuleOp> {
    emitError(loc) << "invalid program: " << message;
    return nullptr;
  };

  SmallVector<Value> tensors;
  for (const pb::Tensor &t : in.tensors()) {
    Type element = typeOf(t.dtype(), ctx);
    if (!element)
      return fail("a tensor has an unknown data type");
    SmallVector<int64_t> shape(t.shape().begin(), t.shape().end());
    if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
      return fail("a tensor has a negative dimension");
    auto type = MemRefType::get(shape, element);
    switch (t.storage_case()) {
    case pb::Tensor::kArenaOffset:
      tensors.push_back(rt::BufferOp::create(
          b, loc, type, b.getI64IntegerAttr(t.arena_offset())));
      break;
    case pb::Tensor::kHostOffset:
      tensors.push_back(rt::HostBufferOp::create(
          b, loc, type, b.getI64IntegerAttr(t.host_offset())));
      break;
    case pb::Tensor::kPersistent: {
      if (t.persistent() >= static_cast<uint32_t>(in.persistents_size()))
        return fail("a tensor refers to a missing persistent tensor");
      const pb::Persistent &p = in.persistents(t.persistent());
      rt::PersistentInitAttr init;
      if (p.init() != pb::Persistent::RANDOM)
        init = rt::PersistentInitAttr::get(
            ctx, static_cast<rt::PersistentInit>(p.init()));
      tensors.push_back(rt::PersistentOp::create(
          b, loc, type, p.name(), static_cast<rt::PersistentKind>(p.kind()),
          init));
      break;
    }
    case pb::Tensor::kConstant: {
      if (t.constant() >= static_cast<uint32_t>(in.constants_size()))
        return fail("a tensor refers to a missing constant");
      const pb::Constant &c = in.constants(t.constant());
      auto tensorType = RankedTensorType::get(shape, element);
      std::optional<int64_t> count = checkedNumElements(shape);
      int64_t elementBytes =
          element.isInteger(1) ? 1 : *elementByteSize(element);
      int64_t expected =
          c.splat() ? elementBytes : count.value_or(-1) * elementBytes;
      if (!count || static_cast<int64_t>(c.data().size()) != expected)
        return fail("a constant's data does not match its shape");
      DenseElementsAttr value;
      if (element.isInteger(1)) {
        SmallVector<bool> v;
        for (char ch : c.data())
          v.push_back(ch != 0);
        value = c.splat() ? DenseElementsAttr::get(tensorType, v.front())
                          : DenseElementsAttr::get(tensorType, v);
      } else {
        ArrayRef<char> raw(c.data().data(), c.data().size());
        value = DenseElementsAttr::getFromRawBuffer(tensorType, raw);
      }
      tensors.push_back(rt::ConstantOp::create(b, loc, type, value));
      break;
    }
    default:
      return fail("a tensor has no storage");
    }
  }
  auto tensorAt = [&](uint32_t i) -> Value {
    return i < tensors.size() ? tensors[i] : Value();
  };
  for (const pb::Binding &binding : in.inputs()) {
    Value v = tensorAt(binding.tensor());
    if (!v)
      return fail("an input refers to a missing tensor");
    rt::InputOp::create(b, loc, binding.name(), v);
  }
  for (const pb::Step &s : in.steps()) {
    SmallVector<Value> inputs, outputs;
    for (uint32_t i : s.inputs())
      inputs.push_back(tensorAt(i));
    for (uint32_t i : s.outputs())
      outputs.push_back(tensorAt(i));
    if (llvm::is_contained(inputs, Value()) ||
        llvm::is_contained(outputs, Value()))
      return fail("step '" + s.kernel() + "' refers to a missing tensor");
    SmallVector<NamedAttribute> attrs;
    for (const pb::Attribute &a : s.attributes()) {
      Attribute value = readAttribute(a, s.kernel(), b);
      if (!value)
        return fail("step '" + s.kernel() +
                    "' has an attribute without a value");
      attrs.push_back(b.getNamedAttr(a.name(), value));
    }
    DenseI64ArrayAttr workspace;
    if (s.has_workspace())
      workspace =
          b.getDenseI64ArrayAttr({static_cast<int64_t>(s.workspace_offset()),
                                  static_cast<int64_t>(s.workspace_bytes())});
    SmallVector<int64_t> wait(s.wait_events().begin(), s.wait_events().end());
    SmallVector<int64_t> release(s.release().begin(), s.release().end());
    rt::StepOp::create(
        b, loc, s.kernel(), inputs, outputs, b.getDictionaryAttr(attrs),
        workspace, s.stream(), b.getDenseI64ArrayAttr(wait), s.record_event(),
        s.name().empty() ? StringAttr() : b.getStringAttr(s.name()),
        release.empty() ? DenseI64ArrayAttr()
                        : b.getDenseI64ArrayAttr(release));
  }
  for (const pb::Binding &binding : in.outputs()) {
    Value v = tensorAt(binding.tensor());
    if (!v)
      return fail("an output refers to a missing tensor");
    rt::OutputOp::create(b, loc, binding.name(), v);
  }
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// Registration
//===----------------------------------------------------------------------===//

void mlg::registerProgramTranslations() {
  static TranslateFromMLIRRegistration toProgram(
      "mlg-to-program", "Serialize an mlgrt.program to a .mlgp program file",
      [](Operation *op, raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        return writeProgram(module, os);
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
  static TranslateToMLIRRegistration fromProgram(
      "mlg-program-to-mlir",
      "Read a .mlgp program file into the runtime dialect",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *ctx) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        Location loc = FileLineColLoc::get(ctx, buffer->getBufferIdentifier(),
                                           /*line=*/0, /*column=*/0);
        OwningOpRef<ModuleOp> module = readProgram(buffer->getBuffer(), loc);
        return OwningOpRef<Operation *>(module.release());
      },
      [](DialectRegistry &registry) { registerAllDialects(registry); });
}
