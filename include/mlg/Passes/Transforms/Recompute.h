//===- Recompute.h - choosing what a training step recomputes ---*- C++ -*-===//
//
// The planner behind -mlg-recompute, on plain data so that it can be tested
// without a pass manager. A RecomputeProblem is a schedule (the edge use-ref
// analysis's ScheduleGraph) with, per step, whether it belongs to the forward
// (everything up to the last op the loss depends on), whether it may be
// recomputed (a pure forward op whose results are not returned), whether it
// is a heavy op (a matrix product: Echo's boundaries) and what it costs.
//
// Recomputing a set S of forward steps means: each use of an S-step's result
// after the forward (a *late* use) reads a clone instead; the clone of step
// o is placed just before the earliest step that needs it, which is its
// results' first late use or the clone point of an S-step reading it,
// whichever comes first, so a clone is made once and shared by every later
// use; clones placed before the same step keep their original order. A
// clone reads the clones of its S-operands and the originals of the rest,
// which stay alive until then. An original that only late uses read is
// removed (its work moves to the backward). simulateRecompute builds the
// resulting schedule and lays it out with the analysis's own rules, so its
// LOAD is the LOAD the edge use-ref analysis finds after the rewrite.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_TRANSFORMS_RECOMPUTE_H
#define MLG_PASSES_TRANSFORMS_RECOMPUTE_H

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlg {

struct RecomputeProblem {
  ScheduleGraph graph;
  /// Steps [0, forwardEnd] are the forward: uses after it are late.
  int forwardEnd = -1;
  /// Per step: may be recomputed; is a heavy op (a matrix product).
  std::vector<bool> candidate, heavy;
  /// Per step: the last step a clone may be placed before (a clone must
  /// read the globals it reads before a store or an update writes them in
  /// place); INT_MAX where nothing bounds it. Steps whose clone would come
  /// later are not recomputed.
  std::vector<int> latestPoint;
  /// Per step: predicted seconds and FLOPs of one execution.
  std::vector<double> seconds, flops;
  /// Parameters, optimizer state and constants: outside the arena, but
  /// part of the peak a budget bounds.
  int64_t persistentBytes = 0;
};

/// A recomputation set and the schedule it makes.
struct RecomputePlan {
  /// Per original step: in S.
  std::vector<bool> recompute;
  /// Per original step: the step its clone is placed before, or -1.
  std::vector<int> clonePoint;
  /// Per original step: whether the original still runs.
  std::vector<bool> keepOriginal;
  /// The new schedule, its layout, and for each new step the original
  /// step it runs (a clone or the original itself).
  ScheduleGraph graph;
  BufferLayout layout;
  std::vector<int> origin;
  /// Per original value: its clone's id in `graph`, or -1.
  std::vector<int> cloneOf;
  /// What the clones cost.
  int numCloned = 0;
  double extraSeconds = 0, extraFlops = 0;

  int64_t load() const { return layout.load; }
};

/// The schedule that recomputing `set` (per step; non-candidates ignored)
/// makes, laid out.
RecomputePlan simulateRecompute(const RecomputeProblem &problem,
                                const std::vector<bool> &set);

/// Echo's policy: the connected subgraphs of cheap candidate steps (heavy
/// steps are boundaries), tried largest stored bytes first, each kept only
/// if it lowers LOAD.
RecomputePlan planEcho(const RecomputeProblem &problem);

/// The budget's mixed-integer program (RecomputeMilp.cpp): how coarse,
/// how long.
struct MilpOptions {
  /// Wall-clock seconds for all rounds together; 0 skips the program.
  double maxSeconds = 5;
  int maxGroups = 150, maxRounds = 8;
};

/// What the program did, for the memory report.
struct MilpStats {
  bool found = false; ///< a plan within the budget
  int groups = 0, timePoints = 0, rounds = 0, columns = 0, rows = 0,
      nodes = 0;
  std::string status = "not run", error;
  /// The last solution's predicted seconds and the solver's bound on the
  /// coarse model (no coarse plan within the budget takes less).
  double objective = 0, bound = 0, seconds = 0;
};

/// The plan with the least predicted recompute time whose LOAD plus
/// persistent bytes is at most `budget`: no recompute if that fits, else
/// cheap subgraphs in order of seconds per stored byte, else segment
/// checkpointing (Chen et al.'s sweep over segment sizes: the forward is
/// cut into segments whose stored bytes pass a threshold, each segment's
/// last step kept and the rest recomputed in the backward), with cuts at
/// any step or at heavy steps only, then the mixed-integer program
/// (planBudgetMilp) where `milp` allows it, started from the best plan so
/// far, then a local search from the best plan, one step toggled at a
/// time; the cheapest plan that fits wins. Without one that fits, `best`
/// gets the plan with the smallest peak found and the result is nullopt.
std::optional<RecomputePlan> planForBudget(const RecomputeProblem &problem,
                                           int64_t budget,
                                           RecomputePlan *best = nullptr,
                                           const MilpOptions *milp = nullptr,
                                           MilpStats *milpStats = nullptr);

/// Checkmate's mixed-integer formulation for these schedules, on the
/// forward cut into at most `maxGroups` groups (RecomputeMilp.cpp), solved
/// by CBC with `start` (a recompute set) as its first solution; the plan
/// of its solution if that fits the budget when simulated.
std::optional<RecomputePlan>
planBudgetMilp(const RecomputeProblem &problem, int64_t budget,
               const MilpOptions &options, MilpStats *stats = nullptr,
               const std::vector<bool> *start = nullptr);

/// A LOAD no recomputation can go below: the largest working set of a
/// single step (its distinct arena operands, its results that cannot be
/// written over an operand or alias one, and its workspace), which every
/// schedule holds while that step runs. `at` gets that step.
int64_t loadLowerBound(const RecomputeProblem &problem, int *at = nullptr);

/// Parses a budget: bytes with an optional unit (B, KB, MB, GB, KiB, MiB,
/// GiB; "4GiB", "1.5e9"), or a percentage of `plainPeak` ("50%").
/// A bound no plan's extra seconds go below for `budget` (bytes of peak,
/// persistent bytes included): at each of the plain schedule's highest
/// steps above the budget, the bytes over it must be freed by recomputing
/// ops that make buffers live there, and an op recomputed frees at most
/// the bytes of the buffers it writes that are live there; the least time
/// to free enough, with ops taken in fractions (a knapsack's linear
/// relaxation), bounds every plan. Infinity where no plan can fit.
double recomputeTimeLowerBound(const RecomputeProblem &problem,
                               int64_t budget);

std::optional<int64_t> parseBudget(llvm::StringRef text, int64_t plainPeak,
                                   std::string &error);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_RECOMPUTE_H
