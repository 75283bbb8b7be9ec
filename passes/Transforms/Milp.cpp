//===- Milp.cpp - mixed-integer linear programs, solved by CBC ------------===//
//
// The one file that calls CBC (built with -fexceptions: CBC throws
// CoinError and std::bad_alloc); everything it raises becomes an error
// status here.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Milp.h"

#include <Cbc_C_Interface.h>
#include <CoinError.hpp>

#include <cfloat>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <string>

using namespace mlg;

int Milp::addColumn(double obj, double lo, double hi, bool isInteger) {
  objective.push_back(obj);
  colLo.push_back(lo);
  colHi.push_back(hi);
  integer.push_back(isInteger);
  return int(objective.size()) - 1;
}

void Milp::addRow(std::vector<std::pair<int, double>> terms, double lo,
                  double hi) {
  rows.push_back(std::move(terms));
  rowLo.push_back(lo);
  rowHi.push_back(hi);
}

const char *mlg::toString(MilpResult::Status status) {
  switch (status) {
  case MilpResult::Optimal:
    return "optimal";
  case MilpResult::Feasible:
    return "stopped, solution found";
  case MilpResult::Infeasible:
    return "infeasible";
  case MilpResult::NoSolution:
    return "stopped, no solution";
  case MilpResult::Error:
    return "error";
  }
  return "error";
}

/// CBC's infinity is DBL_MAX.
static double clampInfinity(double v) {
  return std::isinf(v) ? (v > 0 ? DBL_MAX : -DBL_MAX) : v;
}

static void solve(const Milp &p, double maxSeconds, int maxNodes,
                  MilpResult &r) {
  int numCols = p.objective.size(), numRows = p.rows.size();
  // Column-major, as Cbc_loadProblem takes it.
  std::vector<int> count(numCols, 0);
  for (const auto &row : p.rows)
    for (auto [c, v] : row)
      ++count[c];
  std::vector<int> start(numCols + 1, 0);
  for (int c = 0; c < numCols; ++c)
    start[c + 1] = start[c] + count[c];
  std::vector<int> index(start.back());
  std::vector<double> value(start.back());
  std::vector<int> next(start.begin(), start.end() - 1);
  for (int row = 0; row < numRows; ++row)
    for (auto [c, v] : p.rows[row]) {
      index[next[c]] = row;
      value[next[c]++] = v;
    }
  std::vector<double> colLo, colHi, rowLo, rowHi;
  for (int c = 0; c < numCols; ++c) {
    colLo.push_back(clampInfinity(p.colLo[c]));
    colHi.push_back(clampInfinity(p.colHi[c]));
  }
  for (int row = 0; row < numRows; ++row) {
    rowLo.push_back(clampInfinity(p.rowLo[row]));
    rowHi.push_back(clampInfinity(p.rowHi[row]));
  }

  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model *)> model(Cbc_newModel(),
                                                          Cbc_deleteModel);
  Cbc_loadProblem(model.get(), numCols, numRows, start.data(), index.data(),
                  value.data(), colLo.data(), colHi.data(), p.objective.data(),
                  rowLo.data(), rowHi.data());
  for (int c = 0; c < numCols; ++c)
    if (p.integer[c])
      Cbc_setInteger(model.get(), c);
  if (!p.start.empty()) {
    std::vector<int> cols;
    std::vector<double> vals;
    for (int c = 0; c < numCols && c < int(p.start.size()); ++c)
      if (p.integer[c] && p.start[c] != 0) {
        cols.push_back(c);
        vals.push_back(p.start[c]);
      }
    Cbc_setMIPStartI(model.get(), cols.size(), cols.data(), vals.data());
  }
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setMaximumSeconds(model.get(), std::max(maxSeconds, 0.01));
  Cbc_setMaximumNodes(model.get(), maxNodes);
  Cbc_solve(model.get());
  r.nodes = Cbc_getNodeCount(model.get());

  const double *best = Cbc_bestSolution(model.get());
  if (Cbc_isProvenInfeasible(model.get()) && !best) {
    r.status = MilpResult::Infeasible;
    return;
  }
  if (!best) {
    r.status = Cbc_isAbandoned(model.get()) ? MilpResult::Error
                                            : MilpResult::NoSolution;
    if (r.status == MilpResult::Error)
      r.error = "CBC abandoned the search (numerical difficulties)";
    return;
  }
  r.values.assign(best, best + numCols);
  r.objective = Cbc_getObjValue(model.get());
  r.status = Cbc_isProvenOptimal(model.get()) ? MilpResult::Optimal
                                              : MilpResult::Feasible;
  r.bound =
      r.status == MilpResult::Optimal
          ? r.objective
          : std::min(r.objective, Cbc_getBestPossibleObjValue(model.get()));
}

MilpResult mlg::solveMilp(const Milp &problem, double maxSeconds,
                          int maxNodes) {
  MilpResult r;
  auto begin = std::chrono::steady_clock::now();
  try {
    solve(problem, maxSeconds, maxNodes, r);
  } catch (const CoinError &e) {
    r = MilpResult();
    r.error = "CBC: " + e.message() + " (in " + e.methodName() + ")";
  } catch (const std::exception &e) {
    r = MilpResult();
    r.error = std::string("CBC: ") + e.what();
  } catch (...) {
    r = MilpResult();
    r.error = "CBC failed with an unknown exception";
  }
  r.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  return r;
}
