//===- EdgeUseRef.h - the edge use-ref analysis -----------------*- C++ -*-===//
//
// Echo's edge use-reference analysis over a scheduled function body: for
// every tensor value its size, producer, references and live interval, the
// buffers that hold them (views and in-place results share one), and the
// peak of live bytes, LOAD. Every memory pass queries this one analysis, so
// all of them agree on what memory is.
//
// Definitions (the schedule is the op order of the function's single block;
// step i is its i-th op, the terminator the last step):
//  - A value is *persistent* if it is a parameter or state (loaded from an
//    ml_program.global) or a constant (mlg.constant): it lives outside the
//    arena and is reported separately.
//  - Every other tensor value lives in an arena *buffer*. A function argument
//    is live from step 0; an op result from its op; both until the last
//    step that reads it (for returned values, the terminator).
//  - A *view* (mlg.reshape) aliases its operand's buffer and adds nothing.
//  - An *in-place* result of an op with the InPlaceElementwise trait takes
//    the buffer of an operand with the same byte size whose buffer has no
//    later use (and is not a function argument's); it adds nothing.
//  - An op declaring a workspace (WorkspaceOpInterface) gets a buffer of
//    that size live during its own step.
//  - Intervals are inclusive: during step i both its operands and its
//    results are live.
//  - LOAD is the largest sum, over steps, of the sizes of the buffers live at
//    that step. It is the least arena any plan of this schedule can use.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_ANALYSIS_EDGEUSEREF_H
#define MLG_PASSES_ANALYSIS_EDGEUSEREF_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlg {

/// A buffer's live interval in steps (both ends inclusive) and its size.
struct LiveInterval {
  int64_t start = 0, end = 0;
  int64_t bytes = 0;
};

/// Bytes live at each step in [0, numSteps): the sum of the intervals that
/// contain it.
std::vector<int64_t> liveBytesPerStep(llvm::ArrayRef<LiveInterval> intervals,
                                      int64_t numSteps);

enum class ValueKind {
  Input,     ///< a function argument, in the arena
  Result,    ///< an op result with a buffer of its own
  View,      ///< aliases its operand's buffer (mlg.reshape)
  InPlace,   ///< overwrites the buffer of an operand that dies here
  Parameter, ///< loaded from a mutable global: a parameter or state
  Constant,  ///< mlg.constant or an immutable global
};

/// A schedule as plain data: what the analysis needs of a function body.
/// EdgeUseRef builds one from the IR; a pass that asks what a changed
/// schedule would need (the recomputation planner) builds its own and lays
/// it out with the same rules, without rewriting the IR first.
struct ScheduleGraph {
  struct Value {
    int64_t bytes = 0;
    /// Input, Result, View, Parameter or Constant (InPlace is decided by
    /// layoutBuffers).
    ValueKind kind = ValueKind::Result;
    /// Producing step; -1 for function arguments.
    int def = -1;
  };
  struct Step {
    /// Values read, once per use (a view's source is its first).
    llvm::SmallVector<unsigned, 4> operands;
    llvm::SmallVector<unsigned, 2> results;
    /// (result position, operand value) pairs: the result may be written
    /// over that operand (same shape and size) if its buffer dies here.
    llvm::SmallVector<std::pair<unsigned, unsigned>, 2> inPlace;
    int64_t workspace = 0;
  };
  std::vector<Value> values;
  std::vector<Step> steps;
};

/// The analysis's results over a ScheduleGraph.
struct BufferLayout {
  struct ValueFacts {
    ValueKind kind = ValueKind::Result; ///< InPlace where it joined
    int64_t lastUse = 0;
    int buffer = -1; ///< -1 if persistent
  };
  struct Buffer {
    LiveInterval interval;
    int root = -1;          ///< the allocating value, -1 for a workspace
    int workspaceOf = -1;   ///< the step whose workspace it is
    llvm::SmallVector<unsigned> values;
  };
  std::vector<ValueFacts> values;
  std::vector<Buffer> buffers;
  std::vector<int64_t> liveBytes;
  int64_t load = 0, peakStep = 0;
};

/// Lays out the buffers of a schedule by the rules in this file's comment.
BufferLayout layoutBuffers(const ScheduleGraph &graph);

class EdgeUseRef {
public:
  using Kind = ValueKind;

  struct ValueInfo {
    mlir::Value value;
    Kind kind;
    int64_t bytes = 0;
    mlir::Operation *producer = nullptr; ///< null for function arguments
    int64_t def = 0;     ///< step of the producer (0 for arguments)
    int64_t lastUse = 0; ///< last step that reads it or an alias
    unsigned refs = 0;   ///< direct uses (Echo's reference count)
    int buffer = -1;     ///< index into buffers(), -1 if persistent
  };

  struct Buffer {
    LiveInterval interval;
    /// The value that allocates it, or -1 for a workspace.
    int root = -1;
    /// The op whose workspace it is.
    mlir::Operation *workspaceOf = nullptr;
    /// Values stored in it: the root, its views and in-place successors.
    llvm::SmallVector<unsigned> values;
  };

  /// Analyzes a func.func (or any op with one block of tensor ops).
  explicit EdgeUseRef(mlir::Operation *function);

  llvm::ArrayRef<mlir::Operation *> getSteps() const { return steps; }
  llvm::ArrayRef<ValueInfo> getValues() const { return values; }
  llvm::ArrayRef<Buffer> getBuffers() const { return buffers; }
  std::optional<unsigned> lookup(mlir::Value value) const;
  /// The workspace buffer of `op`, if it has one.
  std::optional<unsigned> lookupWorkspace(mlir::Operation *op) const;
  /// The step of `op`.
  int64_t getStep(mlir::Operation *op) const { return stepOf.lookup(op); }

  /// LOAD, the step where it is reached (the first, if several), and the
  /// buffers live there, largest first.
  int64_t getLoad() const { return load; }
  int64_t getPeakStep() const { return peakStep; }
  llvm::SmallVector<unsigned> getBuffersLiveAt(int64_t step) const;
  const std::vector<int64_t> &getLiveBytes() const { return liveBytes; }
  llvm::SmallVector<LiveInterval> getIntervals() const;

  /// Totals of the persistent values, counted once per global or constant:
  /// the globals the function loads, stores, or reads and writes in place
  /// through GlobalUpdateOpInterface (optimizer state), mutable ones as
  /// parameters, immutable ones and constant ops as constants.
  int64_t getParameterBytes() const { return parameterBytes; }
  int64_t getConstantBytes() const { return constantBytes; }
  int64_t getInputBytes() const { return inputBytes; }

  /// The schedule as plain data (value ids are those of getValues()).
  const ScheduleGraph &getGraph() const { return graph; }

  /// "mlg.conv 'conv1' #0", "argument 0 'input'": for reports and tests.
  std::string describe(unsigned value) const;
  std::string describe(mlir::Operation *op) const;

private:
  void analyze(mlir::Block &block);

  ScheduleGraph graph;
  llvm::SmallVector<mlir::Operation *> steps;
  llvm::DenseMap<mlir::Operation *, int64_t> stepOf;
  llvm::SmallVector<ValueInfo> values;
  llvm::DenseMap<mlir::Value, unsigned> valueIndex;
  llvm::SmallVector<Buffer> buffers;
  llvm::DenseMap<mlir::Operation *, unsigned> workspaces;
  std::vector<int64_t> liveBytes;
  int64_t load = 0, peakStep = 0;
  int64_t parameterBytes = 0, constantBytes = 0, inputBytes = 0;
};

} // namespace mlg

#endif // MLG_PASSES_ANALYSIS_EDGEUSEREF_H
