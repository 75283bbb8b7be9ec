//===- Recompute.cpp - recompute forward values in the backward -----------===//
//
// Implements -mlg-recompute. The pass describes the training step as a
// RecomputeProblem (the edge use-ref analysis's schedule, the forward's end,
// which ops may be recomputed and what each costs), lets a policy choose a
// set (mlg/Passes/Transforms/Recompute.h), and rewrites the function exactly
// as the plan was simulated: clones before their clone points in original
// order, late uses rewired, originals that only late uses read erased.
//
//   %y = mlg.relu %x                          %y = mlg.relu %x
//   ... forward ...                           ... forward ...
//   %g = mlg.relu_backward %dy, %y     ==>    %y2 = mlg.relu %x {mlg.recomputed}
//                                             %g = mlg.relu_backward %dy, %y2
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Recompute.h"

#include "mlg/Dialect/MLG/MLGInterfaces.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Passes/Analysis/CostModel.h"
#include "mlg/Passes/Analysis/EdgeUseRef.h"
#include "mlg/Passes/Passes.h"
#include "mlg/Support/Format.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

#include <climits>
#include <cmath>

#define DEBUG_TYPE "mlg-recompute"

namespace mlg {
#define GEN_PASS_DEF_RECOMPUTE
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

namespace {

/// The returned value the training step minimizes: the result named
/// "loss", else the first.
Value findLoss(func::FuncOp func) {
  Operation *term = func.getBody().front().getTerminator();
  if (!term || term->getNumOperands() == 0)
    return {};
  for (unsigned i = 0; i < term->getNumOperands(); ++i)
    if (auto name = func.getResultAttrOfType<StringAttr>(i, "mlg.name"))
      if (name.getValue() == "loss")
        return term->getOperand(i);
  return term->getOperand(0);
}

/// What a clone of `op` reads (RecomputeOpInterface), one per operand.
SmallVector<Value> recomputeOperands(Operation *op) {
  if (auto r = dyn_cast<RecomputeOpInterface>(op))
    return r.getRecomputeOperands();
  return SmallVector<Value>(op->getOperands());
}

/// The problem, or failure where the function has no forward to split.
FailureOr<RecomputeProblem> describe(func::FuncOp func, const EdgeUseRef &a,
                                     const DeviceProfile &profile) {
  if (!func.getBody().hasOneBlock())
    return failure();
  Value loss = findLoss(func);
  Operation *lossOp = loss ? loss.getDefiningOp() : nullptr;
  if (!lossOp)
    return failure();
  RecomputeProblem p;
  p.graph = a.getGraph();
  p.forwardEnd = a.getStep(lossOp);
  ArrayRef<Operation *> steps = a.getSteps();
  size_t n = steps.size();
  p.candidate.assign(n, false);
  p.heavy.assign(n, false);
  p.seconds.assign(n, 0);
  p.flops.assign(n, 0);
  // The forward proper: what the loss depends on.
  llvm::SetVector<Operation *> ancestors;
  SmallVector<Operation *> work{lossOp};
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!ancestors.insert(op))
      continue;
    for (Value v : op->getOperands())
      if (Operation *def = v.getDefiningOp())
        work.push_back(def);
  }
  // Steps that write each global in place, in order.
  llvm::StringMap<SmallVector<int>> writes;
  for (size_t s = 0; s < n; ++s) {
    if (auto store = dyn_cast<ml_program::GlobalStoreOp>(steps[s]))
      writes[store.getGlobal().getLeafReference()].push_back(s);
    else if (auto update = dyn_cast<GlobalUpdateOpInterface>(steps[s]))
      for (FlatSymbolRefAttr g : update.getWrittenGlobals())
        writes[g.getValue()].push_back(s);
  }
  p.latestPoint.assign(n, INT_MAX);
  Operation *term = func.getBody().front().getTerminator();
  for (size_t s = 0; s < n; ++s) {
    for (Value v : recomputeOperands(steps[s])) {
      Operation *def = v.getDefiningOp();
      while (def && isa<ReshapeOp>(def))
        def = def->getOperand(0).getDefiningOp();
      auto load = dyn_cast_or_null<ml_program::GlobalLoadOp>(def);
      if (!load)
        continue;
      for (int w : writes.lookup(load.getGlobal().getLeafReference()))
        if (w > int(s)) {
          p.latestPoint[s] = std::min(p.latestPoint[s], w);
          break;
        }
    }
  }
  for (size_t s = 0; s < n; ++s) {
    Operation *op = steps[s];
    p.heavy[s] = isa<CostOpInterface>(op);
    p.seconds[s] = profile.seconds(op);
    p.flops[s] = estimateCost(op).flops;
    bool returned = llvm::any_of(op->getUsers(),
                                 [&](Operation *u) { return u == term; });
    bool tensorsOnly = llvm::all_of(op->getResults(), [&](Value r) {
      return a.lookup(r).has_value();
    });
    p.candidate[s] = int64_t(s) <= p.forwardEnd && ancestors.contains(op) &&
                     op->getNumResults() > 0 && op->getNumRegions() == 0 &&
                     isPure(op) && tensorsOnly && !returned &&
                     !isa<ml_program::GlobalLoadOp,
                          ml_program::GlobalLoadConstOp>(op) &&
                     !op->hasTrait<OpTrait::ConstantLike>();
  }
  p.persistentBytes = a.getParameterBytes() + a.getConstantBytes();
  return p;
}

/// Rewrites the function as `plan` was simulated.
void apply(const RecomputePlan &plan, const RecomputeProblem &p,
           const EdgeUseRef &a) {
  ArrayRef<Operation *> steps = a.getSteps();
  IRMapping map;
  UnitAttr marker = UnitAttr::get(steps.front()->getContext());
  for (size_t s = 0; s < steps.size(); ++s) {
    if (plan.clonePoint[s] < 0)
      continue;
    OpBuilder b(steps[plan.clonePoint[s]]);
    SmallVector<Value> operands = recomputeOperands(steps[s]);
    Operation *clone = b.clone(*steps[s], map);
    for (auto [i, v] : llvm::enumerate(operands))
      clone->setOperand(i, map.lookupOrDefault(v));
    clone->setAttr("mlg.recomputed", marker);
    // A plan made before is stale now; the clone is not part of it.
    clone->removeAttr("mlg.offsets");
    clone->removeAttr("mlg.workspace");
  }
  for (size_t s = 0; s < steps.size(); ++s) {
    if (plan.clonePoint[s] < 0)
      continue;
    for (Value r : steps[s]->getResults())
      r.replaceUsesWithIf(map.lookup(r), [&](OpOperand &use) {
        Operation *owner = use.getOwner();
        return !owner->hasAttr("mlg.recomputed") &&
               a.getStep(owner) > p.forwardEnd;
      });
  }
  for (size_t s = steps.size(); s-- > 0;)
    if (plan.clonePoint[s] >= 0 && !plan.keepOriginal[s] &&
        steps[s]->use_empty())
      steps[s]->erase();
}

struct RecomputePass : mlg::impl::RecomputeBase<RecomputePass> {
  using RecomputeBase::RecomputeBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (policy != "echo") {
      mlir::emitError(func.getLoc())
          << "unknown recompute policy '" << policy
          << "' (expected echo, or a budget)";
      return signalPassFailure();
    }
    DeviceProfile profileData = DeviceProfile::h200();
    if (!profile.empty()) {
      std::string error;
      auto loaded = DeviceProfile::fromProfileFile(profile, &error);
      if (failed(loaded)) {
        mlir::emitError(func.getLoc()) << error;
        return signalPassFailure();
      }
      profileData = std::move(*loaded);
    }
    EdgeUseRef analysis(func);
    FailureOr<RecomputeProblem> problem =
        describe(func, analysis, profileData);
    if (failed(problem))
      return markAllAnalysesPreserved(); // nothing returned: no forward
    const RecomputeProblem &p = *problem;
    int64_t plainLoad = analysis.getLoad();
    int64_t plainPeak = plainLoad + p.persistentBytes;

    RecomputePlan plan;
    MilpStats milp;
    std::string chosen = policy;
    int64_t budgetBytes = -1, reserveBytes = 0;
    if (!budget.empty()) {
      std::string error;
      std::optional<int64_t> bytes = parseBudget(budget, plainPeak, error);
      if (!bytes) {
        mlir::emitError(func.getLoc()) << error;
        return signalPassFailure();
      }
      if (!(milpSeconds >= 0)) {
        mlir::emitError(func.getLoc())
            << "milp-seconds must be 0 or more, not " << milpSeconds;
        return signalPassFailure();
      }
      // The plan leaves `scratch-reserve` of the budget to the backend's
      // scratch; the program's budget stays the whole (the CUDA backend
      // keeps its convolution scratch within what the plan leaves).
      int64_t reserve = 0;
      if (!scratchReserve.empty()) {
        std::optional<int64_t> r =
            scratchReserve == "0"
                ? std::optional<int64_t>(0)
                : parseBudget(scratchReserve, plainPeak, error);
        if (!r || *r >= *bytes) {
          mlir::emitError(func.getLoc())
              << "scratch-reserve '" << scratchReserve
              << "' must be bytes (0 or more, below the budget "
              << formatBytes(*bytes) << ")"
              << (error.empty() ? "" : ": ") << error;
          return signalPassFailure();
        }
        reserve = *r;
      }
      RecomputePlan smallest;
      MilpOptions milpOptions;
      milpOptions.maxSeconds = milpSeconds;
      std::optional<RecomputePlan> fit = planForBudget(
          p, *bytes - reserve, &smallest, &milpOptions, &milp);
      if (!fit) {
        int at = 0;
        int64_t bound = loadLowerBound(p, &at);
        mlir::emitError(func.getLoc())
            << "recompute budget " << formatBytes(*bytes)
            << (reserve ? " less a scratch reserve of " + formatBytes(reserve)
                        : std::string())
            << " cannot be met: the smallest peak found is "
            << formatBytes(smallest.load() + p.persistentBytes) << " ("
            << formatBytes(smallest.load()) << " of activations and gradients, "
            << formatBytes(p.persistentBytes)
            << " of parameters, optimizer state and constants); no plan goes "
               "below "
            << formatBytes(bound + p.persistentBytes) << " ("
            << analysis.describe(analysis.getSteps()[at])
            << " alone holds " << formatBytes(bound) << ")";
        return signalPassFailure();
      }
      plan = std::move(*fit);
      chosen = "budget";
      budgetBytes = *bytes;
      reserveBytes = reserve;
    } else {
      plan = planEcho(p);
    }

    double stepSeconds = 0;
    for (double s : p.seconds)
      stepSeconds += s;
    Builder b(func.getContext());
    SmallVector<NamedAttribute> facts = {
        b.getNamedAttr("policy", b.getStringAttr(chosen)),
        b.getNamedAttr("load_before", b.getI64IntegerAttr(plainLoad)),
        b.getNamedAttr("predicted_load", b.getI64IntegerAttr(plan.load())),
        b.getNamedAttr("persistent_bytes",
                       b.getI64IntegerAttr(p.persistentBytes)),
        b.getNamedAttr("cloned", b.getI64IntegerAttr(plan.numCloned)),
        b.getNamedAttr("extra_flops", b.getF64FloatAttr(plan.extraFlops)),
        b.getNamedAttr("extra_seconds", b.getF64FloatAttr(plan.extraSeconds)),
        b.getNamedAttr("step_seconds", b.getF64FloatAttr(stepSeconds)),
        b.getNamedAttr("device", b.getStringAttr(profileData.name)),
        b.getNamedAttr("lower_bound", b.getI64IntegerAttr(loadLowerBound(p))),
    };
    if (!budget.empty()) {
      facts.push_back(b.getNamedAttr("budget", b.getStringAttr(budget)));
      facts.push_back(
          b.getNamedAttr("budget_bytes", b.getI64IntegerAttr(budgetBytes)));
      // How far the heuristic may be from the best plan, at most (finite:
      // a plan fits).
      if (reserveBytes)
        facts.push_back(b.getNamedAttr("scratch_reserve_bytes",
                                       b.getI64IntegerAttr(reserveBytes)));
      double bound = recomputeTimeLowerBound(p, budgetBytes - reserveBytes);
      if (std::isfinite(bound))
        facts.push_back(b.getNamedAttr("time_lower_bound",
                                       b.getF64FloatAttr(bound)));
      // The mixed-integer program: its last solution's seconds and its
      // bound are on the coarse model (groups of ops recomputed together).
      auto fact = [&](StringRef name, Attribute value) {
        facts.push_back(b.getNamedAttr(name, value));
      };
      fact("milp_status", b.getStringAttr(milp.status));
      if (milp.rounds > 0) {
        fact("milp_groups", b.getI64IntegerAttr(milp.groups));
        fact("milp_rounds", b.getI64IntegerAttr(milp.rounds));
        fact("milp_steps_bounded", b.getI64IntegerAttr(milp.timePoints));
        fact("milp_columns", b.getI64IntegerAttr(milp.columns));
        fact("milp_rows", b.getI64IntegerAttr(milp.rows));
        fact("milp_nodes", b.getI64IntegerAttr(milp.nodes));
        fact("milp_solve_seconds", b.getF64FloatAttr(milp.seconds));
        fact("milp_plan_fits", b.getBoolAttr(milp.found));
        if (milp.objective > 0 || milp.bound > 0) {
          fact("milp_objective_seconds", b.getF64FloatAttr(milp.objective));
          fact("milp_bound_seconds", b.getF64FloatAttr(milp.bound));
        }
      }
      if (!milp.error.empty())
        fact("milp_error", b.getStringAttr(milp.error));
    }
    func->setAttr("mlg.recompute", b.getDictionaryAttr(facts));
    numCloned += plan.numCloned;
    bytesSaved += plainLoad - plan.load();
    if (plan.numCloned > 0)
      apply(plan, p, analysis);
  }
};
} // namespace
