//===- RecomputeMilp.cpp - a budget's recomputation as a MILP -------------===//
//
// Checkmate's idea (Jain et al., MLSys 2020: choose what to recompute by a
// mixed-integer program over the schedule, minimize recompute time under a
// memory bound at every step) for the schedules -mlg-recompute makes: each
// forward op recomputed at most once, just before the first step that
// needs it (Recompute.h). Over a coarsened graph:
//
//  - groups: the forward's candidate steps, in order, cut into at most
//    `maxGroups` runs of about equal stored bytes; x_g = 1 recomputes
//    group g (binary), costing its steps' seconds;
//  - z_{g,t} (t after the forward): group g's clones have run by step t.
//    z = x from g's first late use on; before it, only a recomputed reader
//    of g that has run makes g run (z_g <= sum of its readers' z), and a
//    reader's clone needs its recomputed operands' (z_i >= z_j + x_i - 1);
//  - a buffer that crosses the forward-backward gap is live between its
//    last forward use and its first late use iff a producer is not
//    recomputed (1 - x) or its clone has run (z);
//  - a buffer the forward alone read stays live past its last forward use
//    until a recomputed reader's clone has run, if its producer is not
//    recomputed (w >= x_j - x_i - z_j);
//  - at each chosen step t: the plain schedule's live bytes, with those
//    terms in place of the buffers they describe, at most the budget.
//
// Steps are added lazily: the program starts with the plain schedule's
// highest steps above the budget; its solution is simulated exactly
// (simulateRecompute), and while the simulated plan misses the budget, the
// steps where it does join the program (or, where the program already has
// them, the model's error there is taken off its budget) and it is solved
// again. The model leaves out the clones' short-lived temporaries and
// counts a group's stored bytes from its earliest late use.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Milp.h"
#include "mlg/Passes/Transforms/Recompute.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <map>
#include <set>

using namespace mlg;

namespace {
/// The program counts microseconds and MiB: CBC's tolerances suit numbers
/// near 1 better than seconds near 1e-3 and bytes near 1e9.
constexpr double kMicro = 1e6, kMiB = 1048576.0;

struct Group {
  std::vector<int> steps;
  double seconds = 0;
  int firstLate = INT_MAX;  ///< the earliest late use of its results
  bool movable = true;      ///< may be recomputed
  int latest = INT_MAX;     ///< the latest step its clones may need to run
  std::vector<int> readers; ///< groups reading its results
};

/// A buffer whose bytes depend on the choice.
struct Term {
  int64_t bytes = 0;
  /// Steps (lo, hi] where the choice decides: after its last forward use
  /// and, for a buffer that crosses the gap, before its first late use;
  /// for one the forward alone reads, until its readers' latest first late
  /// use.
  int lo = 0, hi = 0;
  bool crosses = false;
  /// Crossing: the groups producing its values (-1: a step no group has).
  /// Forward-only: (producer group or -1, reader group) pairs.
  std::vector<int> producers;
  std::vector<std::pair<int, int>> reads;
};

struct Model {
  std::vector<Group> groups;
  std::vector<int> groupOf; // per step, -1 outside every group
  std::vector<Term> terms;
};

Model coarsen(const RecomputeProblem &p, const BufferLayout &plain,
              int maxGroups) {
  const ScheduleGraph &g = p.graph;
  int n = g.steps.size(), end = std::min(p.forwardEnd, n - 1);
  std::vector<llvm::SmallVector<int, 2>> uses(g.values.size());
  for (int s = 0; s < n; ++s)
    for (unsigned v : g.steps[s].operands)
      uses[v].push_back(s);

  Model m;
  m.groupOf.assign(n, -1);
  std::vector<int64_t> stored(n, 0);
  int64_t total = 0;
  int count = 0;
  for (int s = 0; s <= end; ++s) {
    if (!p.candidate[s])
      continue;
    ++count;
    for (unsigned r : g.steps[s].results)
      if (llvm::any_of(uses[r], [&](int u) { return u > p.forwardEnd; }))
        stored[s] += g.values[r].bytes;
    total += stored[s];
  }
  // Runs of about total / share stored bytes or count / share steps,
  // whichever closes first. Where heavy steps are few enough, each is a
  // group of its own and cheap steps group between them, so that the
  // program may recompute the cheap ops around a product without it.
  int heavyCount = 0;
  for (int s = 0; s <= end; ++s)
    heavyCount += p.candidate[s] && p.heavy[s];
  bool separate = heavyCount <= maxGroups / 2;
  int share = separate ? std::max(1, maxGroups - heavyCount) : maxGroups;
  int shared = separate ? count - heavyCount : count;
  double byteShare = double(total) / share;
  int stepShare = std::max(1, (shared + share - 1) / share);
  int64_t acc = 0;
  int inGroup = 0;
  for (int s = 0; s <= end; ++s) {
    if (!p.candidate[s])
      continue;
    bool alone = separate && p.heavy[s];
    if (m.groups.empty() || inGroup == 0 || alone)
      m.groups.emplace_back();
    Group &grp = m.groups.back();
    grp.steps.push_back(s);
    grp.seconds += p.seconds[s];
    m.groupOf[s] = m.groups.size() - 1;
    for (unsigned r : g.steps[s].results)
      for (int u : uses[r])
        if (u > p.forwardEnd)
          grp.firstLate = std::min(grp.firstLate, u);
    if (alone) {
      inGroup = 0;
      continue;
    }
    acc += stored[s];
    ++inGroup;
    if (double(acc) >= byteShare * 0.999 || inGroup >= stepShare) {
      acc = 0;
      inGroup = 0;
    }
  }
  std::set<std::pair<int, int>> edges;
  for (int s = 0; s <= end; ++s) {
    int j = m.groupOf[s];
    if (j < 0)
      continue;
    for (unsigned v : g.steps[s].operands) {
      int d = g.values[v].def;
      int i = d >= 0 ? m.groupOf[d] : -1;
      if (i >= 0 && i != j && edges.insert({i, j}).second)
        m.groups[i].readers.push_back(j);
    }
  }
  // The latest a group's clones may run: its first late use, or for a
  // group the backward does not read, the latest its readers' may (readers
  // come later, so in reverse order). A clone placed after a global it
  // reads is written could not read it: such groups stay stored.
  for (int gi = int(m.groups.size()) - 1; gi >= 0; --gi) {
    Group &grp = m.groups[gi];
    int latest = grp.firstLate;
    if (latest == INT_MAX) {
      latest = -1;
      for (int j : grp.readers)
        latest =
            std::max(latest, m.groups[j].movable ? m.groups[j].latest : -1);
      if (latest < 0)
        latest = INT_MAX;
    }
    grp.latest = latest;
    grp.movable = latest != INT_MAX;
    for (int s : grp.steps)
      if (s < int(p.latestPoint.size()) && p.latestPoint[s] < latest)
        grp.movable = false;
  }

  for (const BufferLayout::Buffer &b : plain.buffers) {
    if (b.root < 0 || b.interval.start > p.forwardEnd)
      continue;
    Term t;
    t.bytes = b.interval.bytes;
    int lastForward = int(b.interval.start), firstLate = INT_MAX;
    bool fixed = false;
    for (unsigned v : b.values) {
      int d = g.values[v].def;
      if (d > p.forwardEnd)
        continue; // a backward op's result written over the forward's
      if (d < 0 || m.groupOf[d] < 0)
        fixed = true;
      else
        t.producers.push_back(m.groupOf[d]);
      for (int u : uses[v]) {
        if (u <= p.forwardEnd)
          lastForward = std::max(lastForward, u);
        else
          firstLate = std::min(firstLate, u);
      }
    }
    llvm::sort(t.producers);
    t.producers.erase(std::unique(t.producers.begin(), t.producers.end()),
                      t.producers.end());
    t.lo = lastForward;
    if (firstLate != INT_MAX) {
      // Crosses the gap: freed only where every producer is recomputed.
      if (fixed || t.producers.empty())
        continue;
      t.crosses = true;
      t.hi = firstLate - 1;
    } else {
      // The forward alone reads it: a recomputed reader in another group
      // keeps it until that reader's clone runs.
      int hi = -1;
      for (unsigned v : b.values) {
        int d = g.values[v].def;
        int i = d >= 0 ? m.groupOf[d] : -1;
        for (int u : uses[v]) {
          int j = m.groupOf[u];
          if (j < 0 || j == i || !m.groups[j].movable)
            continue;
          t.reads.push_back({i, j});
          hi = std::max(hi, std::min(m.groups[j].firstLate, n) - 1);
        }
      }
      llvm::sort(t.reads);
      t.reads.erase(std::unique(t.reads.begin(), t.reads.end()), t.reads.end());
      if (t.reads.empty())
        continue;
      t.hi = hi;
    }
    if (t.hi > t.lo)
      m.terms.push_back(std::move(t));
  }
  return m;
}

/// The program for the steps `points`, each with its own bound on bytes.
struct Program {
  Milp milp;
  std::vector<int> x; // per group, -1 if fixed at 0
};

Program build(const RecomputeProblem &p, const Model &m,
              const BufferLayout &plain, const std::vector<int> &points,
              const std::map<int, int64_t> &limit) {
  Program prog;
  Milp &milp = prog.milp;
  int numGroups = m.groups.size();
  prog.x.assign(numGroups, -1);
  for (int g = 0; g < numGroups; ++g)
    if (m.groups[g].movable)
      prog.x[g] = milp.addColumn(m.groups[g].seconds * kMicro, 0, 1, true);
  using Terms = std::vector<std::pair<int, double>>;
  for (int t : points) {
    // z_{g,t}: a column before g's first late use, x_g from it on, nothing
    // in the forward; -1 where it is 0.
    std::vector<int> z(numGroups, -1);
    bool backward = t > p.forwardEnd;
    for (int g = 0; g < numGroups; ++g) {
      if (!backward || prog.x[g] < 0)
        continue;
      z[g] = t >= m.groups[g].firstLate ? prog.x[g]
                                        : milp.addColumn(0, 0, 1, false);
    }
    for (int g = 0; g < numGroups; ++g) {
      if (z[g] < 0 || z[g] == prog.x[g])
        continue;
      milp.addRow({{z[g], 1}, {prog.x[g], -1}}, -INFINITY, 0);
      Terms sum{{z[g], 1}};
      for (int j : m.groups[g].readers)
        if (z[j] >= 0)
          sum.push_back({z[j], -1});
      milp.addRow(sum, -INFINITY, 0);
      // z_g >= z_j + x_g - 1 for each reader j.
      for (int j : m.groups[g].readers)
        if (z[j] >= 0)
          milp.addRow({{z[g], 1}, {z[j], -1}, {prog.x[g], -1}}, -1, INFINITY);
    }
    double bytes = double(plain.liveBytes[t]);
    Terms row;
    // Buffers with the same producers (or the same readers) share one
    // column: the LSTM has thousands per step.
    std::map<llvm::SmallVector<int, 2>, double> shared;
    std::map<std::vector<std::pair<int, int>>, double> kept;
    for (const Term &term : m.terms) {
      if (t <= term.lo || t > term.hi)
        continue;
      double b = double(term.bytes);
      if (term.crosses) {
        llvm::SmallVector<int, 2> movable;
        for (int g : term.producers)
          if (prog.x[g] >= 0)
            movable.push_back(g);
        if (movable.size() < term.producers.size() || movable.empty())
          continue; // a producer always stores it: as in the plain plan
        if (movable.size() == 1) {
          // b (1 - x_g + z_g): the plain schedule's b stays in `bytes`.
          int g = movable[0];
          row.push_back({prog.x[g], -b});
          if (z[g] >= 0)
            row.push_back({z[g], b});
          continue;
        }
        // Live in the plain schedule: replaced by b y.
        bytes -= b;
        shared[movable] += b;
      } else {
        // Dead in the plain schedule; w >= x_j - x_i - z_j.
        std::vector<std::pair<int, int>> active;
        for (auto [i, j] : term.reads)
          if (prog.x[j] >= 0 && t < m.groups[j].firstLate)
            active.push_back({i, j});
        if (!active.empty())
          kept[active] += b;
      }
    }
    for (const auto &[movable, b] : shared) {
      int y = milp.addColumn(0, 0, 1, false);
      row.push_back({y, b});
      for (int g : movable) {
        milp.addRow({{y, 1}, {prog.x[g], 1}}, 1, INFINITY);
        if (z[g] >= 0)
          milp.addRow({{y, 1}, {z[g], -1}}, 0, INFINITY);
      }
    }
    for (const auto &[active, b] : kept) {
      int w = milp.addColumn(0, 0, 1, false);
      row.push_back({w, b});
      for (auto [i, j] : active) {
        Terms r{{w, 1}, {prog.x[j], -1}};
        if (i >= 0 && prog.x[i] >= 0)
          r.push_back({prog.x[i], 1});
        if (z[j] >= 0 && z[j] != prog.x[j])
          r.push_back({z[j], 1});
        milp.addRow(r, 0, INFINITY);
      }
    }
    // Merge repeated columns (x_g from several terms).
    llvm::sort(row);
    Terms merged;
    for (auto [c, v] : row) {
      if (!merged.empty() && merged.back().first == c)
        merged.back().second += v;
      else
        merged.push_back({c, v});
    }
    for (auto &term : merged)
      term.second /= kMiB;
    milp.addRow(merged, -INFINITY, (double(limit.at(t)) - bytes) / kMiB);
  }
  return prog;
}
} // namespace

std::optional<RecomputePlan>
mlg::planBudgetMilp(const RecomputeProblem &p, int64_t budget,
                    const MilpOptions &options, MilpStats *stats,
                    const std::vector<bool> *start) {
  MilpStats local;
  MilpStats &st = stats ? *stats : local;
  st = MilpStats();
  auto begin = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         begin)
        .count();
  };
  const ScheduleGraph &g = p.graph;
  int n = g.steps.size();
  int64_t target = budget - p.persistentBytes;
  BufferLayout plain = layoutBuffers(g);
  if (plain.load <= target) {
    st.status = "plain plan fits";
    return simulateRecompute(p, std::vector<bool>(n, false));
  }
  Model m = coarsen(p, plain, std::max(1, options.maxGroups));
  st.groups = m.groups.size();
  if (m.groups.empty()) {
    st.status = "nothing to recompute";
    return std::nullopt;
  }

  // The plain schedule's highest steps above the budget, and the highest
  // of each sixteenth of the schedule.
  std::vector<int> over;
  for (int s = 0; s < n; ++s)
    if (plain.liveBytes[s] > target)
      over.push_back(s);
  std::set<int> points;
  llvm::sort(over, [&](int a, int b) {
    return plain.liveBytes[a] > plain.liveBytes[b];
  });
  for (size_t i = 0; i < over.size() && i < 24; ++i)
    points.insert(over[i]);
  for (int part = 0; part < 16; ++part) {
    int lo = int64_t(n) * part / 16, hi = int64_t(n) * (part + 1) / 16;
    int best = -1;
    for (int s = lo; s < hi; ++s)
      if (plain.liveBytes[s] > target &&
          (best < 0 || plain.liveBytes[s] > plain.liveBytes[best]))
        best = s;
    if (best >= 0)
      points.insert(best);
  }
  std::map<int, int64_t> limit;
  for (int s : points)
    limit[s] = target;

  std::optional<RecomputePlan> fit;
  std::vector<double> warm;
  if (start) {
    warm.assign(m.groups.size(), 0);
    for (size_t gi = 0; gi < m.groups.size(); ++gi)
      for (int s : m.groups[gi].steps)
        if (s < int(start->size()) && (*start)[s])
          warm[gi] = 1;
  }
  for (int round = 0; round < options.maxRounds; ++round) {
    double left = options.maxSeconds - elapsed();
    if (left <= 0.05) {
      st.status = "time limit";
      break;
    }
    std::vector<int> pts(points.begin(), points.end());
    Program prog = build(p, m, plain, pts, limit);
    if (!warm.empty()) {
      prog.milp.start.assign(prog.milp.objective.size(), 0);
      for (size_t gi = 0; gi < m.groups.size(); ++gi)
        if (prog.x[gi] >= 0)
          prog.milp.start[prog.x[gi]] = warm[gi];
    }
    MilpResult r = solveMilp(prog.milp, left);
    ++st.rounds;
    st.timePoints = pts.size();
    st.columns = prog.milp.objective.size();
    st.rows = prog.milp.rows.size();
    st.nodes += r.nodes;
    st.status = toString(r.status);
    if (r.status == MilpResult::Error) {
      st.error = r.error;
      break;
    }
    if (!r.hasSolution())
      break; // infeasible in the model, or out of time
    // A bound on the coarse model with every step (these rows are some).
    st.bound = r.bound / kMicro;
    st.objective = r.objective / kMicro;
    std::vector<bool> set(n, false);
    for (size_t gi = 0; gi < m.groups.size(); ++gi)
      if (prog.x[gi] >= 0 && r.values[prog.x[gi]] > 0.5)
        for (int s : m.groups[gi].steps)
          set[s] = true;
    RecomputePlan plan = simulateRecompute(p, set);
    if (plan.load() <= target) {
      fit = std::move(plan);
      break;
    }
    // Where the plan misses the budget, as original steps (a clone runs
    // just before its clone point).
    bool added = false;
    const std::vector<int64_t> &live = plan.layout.liveBytes;
    std::vector<int> missed;
    for (int s = 0, e = live.size(); s < e; ++s)
      if (live[s] > target)
        missed.push_back(s);
    llvm::sort(missed, [&](int a, int b) { return live[a] > live[b]; });
    if (missed.size() > 8)
      missed.resize(8);
    // Each step of the new schedule as an original step: the forward runs
    // originals; after it, a forward op is a clone, run just before the next
    // backward step (its clone point).
    int firstBackward = 0;
    while (firstBackward < int(plan.origin.size()) &&
           plan.origin[firstBackward] <= p.forwardEnd)
      ++firstBackward;
    std::vector<int> timeOf(plan.origin.size(), -1);
    for (int k = int(plan.origin.size()) - 1, next = -1; k >= 0; --k) {
      int o = plan.origin[k];
      if (o > p.forwardEnd)
        next = o;
      timeOf[k] = o > p.forwardEnd || k < firstBackward ? o : next;
    }
    for (int s : missed) {
      int t = timeOf[s];
      if (t < 0 || t >= n)
        continue;
      auto it = limit.find(t);
      if (it == limit.end()) {
        limit[t] = target;
        points.insert(t);
        added = true;
      } else if (s == plan.layout.peakStep) {
        // The model already bounds this step and was wrong by this much.
        it->second -= live[s] - target;
        added = true;
      }
    }
    if (!added)
      break;
  }
  st.seconds = elapsed();
  st.found = fit.has_value();
  return fit;
}
