//===- RecomputePlan.cpp - choosing what a training step recomputes -------===//
//
// simulateRecompute rebuilds the schedule that a recomputation set makes (see
// the header for the rules) in O(steps + uses) and lays it out with the edge
// use-ref analysis's layoutBuffers, so every policy judges a candidate set by
// the LOAD the rewritten function will have. The policies (Echo's, and the
// budget's cheapest-first search) only choose sets; they never rewrite IR.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Recompute.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlg;

namespace {
/// Each value's users (steps, once per use) in compressed rows.
struct Users {
  std::vector<int> offsets, steps;

  explicit Users(const ScheduleGraph &g) {
    offsets.assign(g.values.size() + 1, 0);
    for (const ScheduleGraph::Step &s : g.steps)
      for (unsigned v : s.operands)
        ++offsets[v + 1];
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    steps.resize(offsets.back());
    std::vector<int> next(offsets.begin(), offsets.end() - 1);
    for (int s = 0, e = g.steps.size(); s < e; ++s)
      for (unsigned v : g.steps[s].operands)
        steps[next[v]++] = s;
  }
  llvm::ArrayRef<int> of(unsigned v) const {
    return llvm::ArrayRef<int>(steps).slice(offsets[v],
                                            offsets[v + 1] - offsets[v]);
  }
};

/// Bytes of a step's results that a late use reads: what keeping them
/// across the forward-backward gap costs.
int64_t storedBytes(const RecomputeProblem &p, const Users &users, int s) {
  int64_t bytes = 0;
  for (unsigned r : p.graph.steps[s].results)
    if (llvm::any_of(users.of(r), [&](int u) { return u > p.forwardEnd; }))
      bytes += p.graph.values[r].bytes;
  return bytes;
}
} // namespace

/// simulateRecompute with the original graph's users, which the planners
/// compute once for their many simulations.
static RecomputePlan simulate(const RecomputeProblem &p, const Users &users,
                              const std::vector<bool> &set) {
  const ScheduleGraph &g = p.graph;
  int n = g.steps.size();
  RecomputePlan plan;
  plan.recompute.assign(n, false);
  plan.clonePoint.assign(n, -1);
  plan.keepOriginal.assign(n, true);
  for (int s = 0; s <= p.forwardEnd && s < n; ++s)
    plan.recompute[s] = s < int(set.size()) && set[s] && p.candidate[s];

  // Clone points and surviving originals, dependents first.
  for (int s = std::min(p.forwardEnd, n - 1); s >= 0; --s) {
    if (!plan.recompute[s])
      continue;
    int point = INT_MAX;
    bool early = false;
    for (unsigned r : g.steps[s].results) {
      for (int u : users.of(r)) {
        if (u > p.forwardEnd)
          point = std::min(point, u);
        else if (!plan.recompute[u] || plan.keepOriginal[u])
          early = true;
        if (u <= p.forwardEnd && plan.recompute[u] &&
            plan.clonePoint[u] >= 0)
          point = std::min(point, plan.clonePoint[u]);
      }
    }
    if (point != INT_MAX && s < int(p.latestPoint.size()) &&
        point > p.latestPoint[s]) {
      // Too late to read its globals: stays stored, and dependents' clones
      // read the original.
      plan.recompute[s] = false;
      continue;
    }
    plan.clonePoint[s] = point == INT_MAX ? -1 : point;
    plan.keepOriginal[s] = early || plan.clonePoint[s] < 0;
  }

  // The clones placed before each step, in original order.
  std::vector<int> cloneStart(n + 1, 0), clones;
  for (int s = 0; s < n; ++s)
    if (plan.clonePoint[s] >= 0)
      ++cloneStart[plan.clonePoint[s] + 1];
  std::partial_sum(cloneStart.begin(), cloneStart.end(), cloneStart.begin());
  clones.resize(cloneStart.back());
  {
    std::vector<int> next(cloneStart.begin(), cloneStart.end() - 1);
    for (int s = 0; s < n; ++s)
      if (plan.clonePoint[s] >= 0)
        clones[next[plan.clonePoint[s]]++] = s;
  }

  ScheduleGraph &ng = plan.graph;
  ng.values = g.values;
  plan.cloneOf.assign(g.values.size(), -1);
  auto cloned = [&](unsigned v) -> unsigned {
    return plan.cloneOf[v] >= 0 ? unsigned(plan.cloneOf[v]) : v;
  };
  ng.steps.reserve(n + clones.size());
  plan.origin.reserve(n + clones.size());
  for (int s = 0; s < n; ++s) {
    for (int i = cloneStart[s]; i < cloneStart[s + 1]; ++i) {
      int o = clones[i];
      const ScheduleGraph::Step &src = g.steps[o];
      ScheduleGraph::Step step;
      int index = ng.steps.size();
      for (unsigned v : src.operands)
        step.operands.push_back(cloned(v));
      for (unsigned r : src.results) {
        ScheduleGraph::Value value = g.values[r];
        value.def = index;
        plan.cloneOf[r] = ng.values.size();
        step.results.push_back(ng.values.size());
        ng.values.push_back(value);
      }
      for (auto [pos, v] : src.inPlace)
        step.inPlace.push_back({pos, cloned(v)});
      step.workspace = src.workspace;
      ng.steps.push_back(std::move(step));
      plan.origin.push_back(o);
      ++plan.numCloned;
      plan.extraSeconds += p.seconds[o];
      plan.extraFlops += p.flops[o];
    }
    if (!plan.keepOriginal[s])
      continue;
    ScheduleGraph::Step step = g.steps[s];
    int index = ng.steps.size();
    if (s > p.forwardEnd) {
      for (unsigned &v : step.operands)
        v = cloned(v);
      for (auto &[pos, v] : step.inPlace)
        v = cloned(v);
    }
    for (unsigned r : step.results)
      ng.values[r].def = index;
    ng.steps.push_back(std::move(step));
    plan.origin.push_back(s);
  }
  plan.layout = layoutBuffers(ng);
  return plan;
}

RecomputePlan mlg::simulateRecompute(const RecomputeProblem &p,
                                     const std::vector<bool> &set) {
  return simulate(p, Users(p.graph), set);
}

namespace {
/// Echo's candidates: the connected subgraphs of cheap candidate steps,
/// with the bytes they store across the gap, largest first.
struct Component {
  std::vector<int> steps;
  int64_t stored = 0;
  double seconds = 0;
};

std::vector<Component> cheapComponents(const RecomputeProblem &p,
                                       const Users &users, bool coarse,
                                       bool fine) {
  const ScheduleGraph &g = p.graph;
  int end = std::min<int>(p.forwardEnd, int(g.steps.size()) - 1);
  auto cheap = [&](int s) { return s >= 0 && p.candidate[s] && !p.heavy[s]; };
  std::vector<int64_t> stored(g.steps.size(), 0);
  for (int s = 0; s <= end; ++s)
    if (cheap(s))
      stored[s] = storedBytes(p, users, s);
  llvm::EquivalenceClasses<int> classes;
  for (int s = 0; s <= end; ++s) {
    if (!cheap(s))
      continue;
    classes.insert(s);
    for (unsigned v : g.steps[s].operands)
      if (cheap(g.values[v].def))
        classes.unionSets(s, g.values[v].def);
  }
  std::vector<Component> out;
  std::vector<int> componentOf(g.steps.size(), -1);
  for (int s = 0; s <= end; ++s) {
    if (!cheap(s))
      continue;
    int leader = classes.getLeaderValue(s);
    if (componentOf[leader] < 0) {
      componentOf[leader] = out.size();
      out.emplace_back();
    }
    Component &c = out[componentOf[leader]];
    c.steps.push_back(s);
    c.stored += stored[s];
    c.seconds += p.seconds[s];
  }
  // Finer candidates for subgraphs that residual adds or concatenations
  // join across a whole stage: each cheap step that stores bytes, with the
  // cheap steps it reads through values nothing late reads (recomputing
  // it then costs its own inputs' lifetimes, not the stage's).
  size_t coarseCount = out.size();
  std::vector<int> mark(g.steps.size(), -1);
  for (int s = 0; s <= end; ++s) {
    if (!fine || !cheap(s) || stored[s] == 0 ||
        (coarse &&
         out[componentOf[classes.getLeaderValue(s)]].steps.size() == 1))
      continue;
    Component c;
    std::vector<int> work{s};
    mark[s] = s;
    while (!work.empty()) {
      int t = work.back();
      work.pop_back();
      c.steps.push_back(t);
      for (unsigned v : g.steps[t].operands) {
        int d = g.values[v].def;
        if (cheap(d) && mark[d] != s && stored[d] == 0) {
          mark[d] = s;
          work.push_back(d);
        }
      }
    }
    llvm::sort(c.steps);
    for (int t : c.steps) {
      c.stored += stored[t];
      c.seconds += p.seconds[t];
    }
    out.push_back(std::move(c));
  }
  if (!coarse)
    out.erase(out.begin(), out.begin() + coarseCount);
  llvm::erase_if(out, [](const Component &c) { return c.stored == 0; });
  llvm::stable_sort(out, [](const Component &a, const Component &b) {
    return a.stored > b.stored;
  });
  return out;
}

/// Least recompute seconds per stored byte first.
void sortCheapestFirst(std::vector<Component> &components) {
  llvm::stable_sort(components, [](const Component &a, const Component &b) {
    return a.seconds * double(b.stored) < b.seconds * double(a.stored);
  });
}

/// Adds components one at a time to `set`, keeping each that lowers LOAD;
/// stops early once `done` holds or `work` (simulated steps) runs out.
/// Returns the last kept plan.
template <typename Done>
RecomputePlan addWhileLowering(const RecomputeProblem &p, const Users &users,
                               llvm::ArrayRef<Component> components,
                               std::vector<bool> &set, Done done,
                               int64_t &work) {
  RecomputePlan best = simulate(p, users, set);
  std::vector<bool> taken(components.size(), false);
  int64_t perTrial = int64_t(p.graph.steps.size()) + 1;
  // A second round: a subgraph that did not lower the peak alone may once
  // others moved it.
  for (int round = 0; round < 2; ++round) {
    bool changed = false;
    for (size_t c = 0; c < components.size() && !done(best); ++c) {
      if (taken[c])
        continue;
      if ((work -= perTrial) < 0)
        return best;
      std::vector<bool> trial = set;
      for (int s : components[c].steps)
        trial[s] = true;
      RecomputePlan plan = simulate(p, users, trial);
      if (plan.load() < best.load()) {
        set = std::move(trial);
        best = std::move(plan);
        taken[c] = changed = true;
      }
    }
    if (!changed || done(best))
      break;
  }
  return best;
}
} // namespace

RecomputePlan mlg::planEcho(const RecomputeProblem &p) {
  Users users(p.graph);
  // Greedy depends on the candidates' grain; the stage-wide subgraphs and
  // the per-value ones each win on some models, so try both and together.
  // About a second of simulation on two cores, shared by the orders in
  // turn, so that graphs of tens of thousands of ops stay fast.
  int64_t work = 30'000'000;
  std::optional<RecomputePlan> best;
  // Orders: most stored bytes first (Echo's), and cheapest per stored
  // byte first.
  for (auto [coarse, fine] : {std::pair{true, true}, std::pair{true, false},
                              std::pair{false, true}})
    for (bool cheapestFirst : {false, true}) {
    std::vector<Component> components =
        cheapComponents(p, users, coarse, fine);
    if (cheapestFirst)
      sortCheapestFirst(components);
    std::vector<bool> set(p.graph.steps.size(), false);
    RecomputePlan plan =
        addWhileLowering(p, users, components, set,
                         [](const RecomputePlan &) { return false; }, work);
    if (!best || plan.load() < best->load() ||
        (plan.load() == best->load() &&
         plan.extraSeconds < best->extraSeconds))
      best = std::move(plan);
  }
  // Every cheap subgraph at once: greedy stalls where no single subgraph
  // lowers a peak that several hold up together.
  std::vector<bool> all(p.graph.steps.size(), false);
  for (const Component &c : cheapComponents(p, users, true, false))
    for (int s : c.steps)
      all[s] = true;
  RecomputePlan plan = simulate(p, users, all);
  if (plan.load() < best->load())
    best = std::move(plan);
  return std::move(*best);
}

std::optional<RecomputePlan> mlg::planForBudget(const RecomputeProblem &p,
                                                int64_t budget,
                                                RecomputePlan *best,
                                                const MilpOptions *milp,
                                                MilpStats *milpStats) {
  const ScheduleGraph &g = p.graph;
  int n = g.steps.size();
  int64_t target = budget - p.persistentBytes;
  std::optional<RecomputePlan> fit;
  Users users(g);
  RecomputePlan smallest = simulate(p, users, std::vector<bool>(n, false));
  auto consider = [&](const RecomputePlan &plan) {
    if (plan.load() <= target &&
        (!fit || plan.extraSeconds < fit->extraSeconds))
      fit = plan;
    if (plan.load() < smallest.load())
      smallest = plan;
  };
  consider(smallest);
  if (fit)
    return fit;

  // Cheap subgraphs first, cheapest per stored byte.
  std::vector<Component> components =
      cheapComponents(p, users, /*coarse=*/true, /*fine=*/true);
  sortCheapestFirst(components);
  std::vector<bool> cheapSet(n, false);
  int64_t work = 30'000'000;
  consider(addWhileLowering(
      p, users, components, cheapSet,
      [&](const RecomputePlan &plan) { return plan.load() <= target; }, work));

  // Segment checkpointing: everything recomputed but the steps that close
  // a segment of about `threshold` stored bytes.
  int end = std::min(p.forwardEnd, n - 1);
  std::vector<int64_t> stepBytes(n, 0);
  int64_t total = 0, smallestStep = INT64_MAX;
  for (int s = 0; s <= end; ++s) {
    if (!p.candidate[s])
      continue;
    for (unsigned r : g.steps[s].results)
      stepBytes[s] += g.values[r].bytes;
    total += stepBytes[s];
    if (stepBytes[s] > 0)
      smallestStep = std::min(smallestStep, stepBytes[s]);
  }
  // Cuts: steps after which no earlier activation is read again by the
  // forward (a residual block's output, an LSTM step's state): keeping one
  // keeps everything before it from being recomputed for what follows.
  std::vector<bool> cut(n, false);
  {
    std::vector<int> lastForwardUse(g.values.size(), -1);
    for (int s = 0; s <= end; ++s)
      for (unsigned v : g.steps[s].operands)
        lastForwardUse[v] = s;
    int reach = -1;
    for (int s = 0; s <= end; ++s) {
      cut[s] = reach <= s;
      for (unsigned r : g.steps[s].results)
        if (g.values[r].kind != ValueKind::Parameter &&
            g.values[r].kind != ValueKind::Constant)
          reach = std::max(reach, lastForwardUse[r]);
    }
  }
  // Over the whole forward, and over its first quarter, half and three
  // quarters (by stored bytes) only: the earliest activations are
  // recomputed when the backward has freed most of what came after them,
  // so a plan that keeps the later layers and recomputes the earlier ones
  // often fits for less time than one that recomputes a little of each.
  enum class At { Cut, Heavy, Any };
  auto sweep = [&](int last, std::initializer_list<At> modes, int thresholds) {
    double lo = std::log(double(smallestStep)), hi = std::log(double(total));
    for (At at : modes) {
      for (int i = 0; i <= thresholds; ++i) {
        double threshold = std::exp(lo + (hi - lo) * i / thresholds);
        std::vector<bool> set(n, false);
        double acc = 0;
        for (int s = 0; s <= last; ++s) {
          if (!p.candidate[s])
            continue;
          set[s] = true;
          acc += double(stepBytes[s]);
          bool may = at == At::Any || (at == At::Heavy && p.heavy[s]) ||
                     (at == At::Cut && cut[s]);
          if (acc >= threshold && may) {
            set[s] = false;
            acc = 0;
          }
        }
        consider(simulate(p, users, set));
      }
    }
  };
  if (total > 0) {
    sweep(end, {At::Cut, At::Heavy, At::Any}, 40);
    for (double part : {0.25, 0.5, 0.75}) {
      int last = -1;
      for (int64_t acc = 0; last < end;) {
        acc += stepBytes[last + 1];
        if (double(acc) > part * double(total))
          break;
        ++last;
      }
      if (last >= 0)
        sweep(last, {At::Cut, At::Heavy}, 20);
    }
  }

  // The mixed-integer program, from the best plan so far (not where the
  // budget is below the largest step's working set: nothing fits there).
  if (milp && milp->maxSeconds > 0 && loadLowerBound(p) <= target) {
    const std::vector<bool> &start = (fit ? *fit : smallest).recompute;
    if (std::optional<RecomputePlan> plan =
            planBudgetMilp(p, budget, *milp, milpStats, &start))
      consider(*plan);
  }

  // Local search from the best plan so far, one step toggled at a time:
  // towards the budget while it is missed (the toggle that lowers LOAD
  // most), then towards less time (the toggle that saves the most seconds
  // and still fits), within a bound on simulated steps so that large
  // graphs stay fast.
  std::vector<int> movable;
  for (int s = 0; s <= end; ++s)
    if (p.candidate[s])
      movable.push_back(s);
  auto area = [](const RecomputePlan &plan) {
    return std::accumulate(plan.layout.liveBytes.begin(),
                           plan.layout.liveBytes.end(), int64_t(0));
  };
  const int64_t kWorkLimit = 12'000'000;
  int64_t spent = 0, round = int64_t(movable.size()) * (n + 1);
  RecomputePlan current = fit ? *fit : smallest;
  std::vector<bool> set = current.recompute;
  while (!movable.empty() && spent + round <= kWorkLimit) {
    spent += round;
    bool fits = current.load() <= target;
    std::optional<RecomputePlan> move;
    int moved = -1;
    for (int s : movable) {
      set[s] = !set[s];
      RecomputePlan trial = simulate(p, users, set);
      set[s] = !set[s];
      const RecomputePlan &bar = move ? *move : current;
      // Missing the budget, a toggle that keeps the peak but shrinks the
      // bytes live over the whole schedule is progress too (peaks are
      // often plateaus that one toggle cannot lower).
      bool better = fits ? trial.load() <= target &&
                               trial.extraSeconds < bar.extraSeconds - 1e-12
                         : std::pair(trial.load(), area(trial)) <
                               std::pair(bar.load(), area(bar));
      if (better) {
        move = std::move(trial);
        moved = s;
      }
    }
    if (!move)
      break;
    set[moved] = !set[moved];
    current = std::move(*move);
    consider(current);
  }
  if (!fit && best)
    *best = std::move(smallest);
  return fit;
}

int64_t mlg::loadLowerBound(const RecomputeProblem &p, int *at) {
  const ScheduleGraph &g = p.graph;
  auto inArena = [&](unsigned v) {
    return g.values[v].kind != ValueKind::Parameter &&
           g.values[v].kind != ValueKind::Constant;
  };
  int64_t bound = 0;
  for (int s = 0, e = g.steps.size(); s < e; ++s) {
    const ScheduleGraph::Step &step = g.steps[s];
    llvm::SmallDenseSet<unsigned, 8> seen;
    int64_t bytes = step.workspace;
    for (unsigned v : step.operands)
      if (inArena(v) && seen.insert(v).second)
        bytes += g.values[v].bytes;
    for (auto [pos, r] : llvm::enumerate(step.results)) {
      bool shares = g.values[r].kind == ValueKind::View ||
                    llvm::any_of(step.inPlace, [&](auto pair) {
                      return pair.first == pos;
                    });
      if (inArena(r) && !shares)
        bytes += g.values[r].bytes;
    }
    if (bytes > bound) {
      bound = bytes;
      if (at)
        *at = s;
    }
  }
  return bound;
}

double mlg::recomputeTimeLowerBound(const RecomputeProblem &p,
                                    int64_t budget) {
  const ScheduleGraph &g = p.graph;
  BufferLayout plain = layoutBuffers(g);
  int64_t target = budget - p.persistentBytes;
  // The steps over the budget, highest first; a few of them suffice for a
  // bound (each alone is one).
  std::vector<int> over;
  for (int s = 0, e = int(plain.liveBytes.size()); s < e; ++s)
    if (plain.liveBytes[s] > target)
      over.push_back(s);
  llvm::sort(over, [&](int a, int b) {
    return plain.liveBytes[a] > plain.liveBytes[b];
  });
  if (over.size() > 16)
    over.resize(16);
  double bound = 0;
  for (int s : over) {
    // Each candidate op's bytes live at s: the buffers it writes a value of.
    llvm::DenseMap<int, int64_t> bytesOf;
    for (const BufferLayout::Buffer &b : plain.buffers) {
      if (b.root < 0 || b.interval.start > s || b.interval.end < s)
        continue;
      llvm::SmallDenseSet<int, 4> producers;
      for (unsigned v : b.values)
        if (int d = g.values[v].def; d >= 0 && p.candidate[d])
          producers.insert(d);
      for (int d : producers)
        bytesOf[d] += b.interval.bytes;
    }
    std::vector<std::pair<double, int64_t>> items; // (seconds, bytes)
    for (auto [d, bytes] : bytesOf)
      items.push_back({p.seconds[d], bytes});
    llvm::sort(items, [](auto x, auto y) {
      return x.first * double(y.second) < y.first * double(x.second);
    });
    double need = double(plain.liveBytes[s] - target), time = 0;
    for (auto [seconds, bytes] : items) {
      if (double(bytes) >= need) { // the last one, in part
        time += seconds * need / double(bytes);
        need = 0;
        break;
      }
      time += seconds;
      need -= double(bytes);
    }
    if (need > 0)
      return std::numeric_limits<double>::infinity();
    bound = std::max(bound, time);
  }
  return bound;
}

std::optional<int64_t> mlg::parseBudget(llvm::StringRef text,
                                        int64_t plainPeak,
                                        std::string &error) {
  llvm::StringRef t = text.trim();
  auto fail = [&](const char *why) -> std::optional<int64_t> {
    error = ("budget '" + text + "': " + why).str();
    return std::nullopt;
  };
  double scale = 1;
  if (t.consume_back("%")) {
    scale = double(plainPeak) / 100;
  } else {
    static const std::pair<const char *, double> units[] = {
        {"KiB", 1024.0},   {"MiB", 1048576.0}, {"GiB", 1073741824.0},
        {"KB", 1e3},       {"MB", 1e6},        {"GB", 1e9},
        {"B", 1.0}};
    for (auto [unit, factor] : units) {
      if (t.ends_with_insensitive(unit)) {
        t = t.drop_back(llvm::StringRef(unit).size()).rtrim();
        scale = factor;
        break;
      }
    }
  }
  double value = 0;
  if (t.empty() || t.getAsDouble(value) || !std::isfinite(value))
    return fail("expected bytes with an optional unit (B, KB, MB, GB, KiB, "
                "MiB, GiB) or a percentage of the plain plan's peak");
  double bytes = value * scale;
  if (!(bytes > 0) || bytes >= 9.2e18)
    return fail("must be positive and below 2^63 bytes");
  return int64_t(bytes);
}
