//===- Milp.h - mixed-integer linear programs, solved by CBC ----*- C++ -*-===//
//
// A small, exception-free front for Debian's COIN-OR CBC: a problem in
// rows (minimize obj'x subject to rowLo <= A x <= rowHi, colLo <= x <=
// colHi, some columns integer), an optional start, a time cap. CBC reports
// failures with C++ exceptions; only Milp.cpp, built with -fexceptions,
// sees them, and returns them as an error message (see libonnx's Checker).
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_TRANSFORMS_MILP_H
#define MLG_PASSES_TRANSFORMS_MILP_H

#include <string>
#include <utility>
#include <vector>

namespace mlg {

struct Milp {
  std::vector<double> objective, colLo, colHi;
  std::vector<bool> integer;
  /// Each row: (column, coefficient) pairs.
  std::vector<std::vector<std::pair<int, double>>> rows;
  std::vector<double> rowLo, rowHi;
  /// A feasible assignment of the integer columns to start from, or empty.
  std::vector<double> start;

  int addColumn(double objective, double lo, double hi, bool integer);
  void addRow(std::vector<std::pair<int, double>> terms, double lo, double hi);
};

struct MilpResult {
  enum Status {
    Optimal,    ///< proven optimal
    Feasible,   ///< a solution, stopped by the time cap
    Infeasible, ///< proven to have none
    NoSolution, ///< none found before the time cap
    Error,      ///< the solver failed: see `error`
  };
  Status status = Error;
  /// The solution (Optimal, Feasible) and its objective.
  std::vector<double> values;
  double objective = 0;
  /// What no solution's objective goes below (the branch and bound's best
  /// bound; the linear relaxation's at least).
  double bound = 0;
  double seconds = 0;
  /// Branch-and-bound nodes searched.
  int nodes = 0;
  std::string error;

  bool hasSolution() const { return status == Optimal || status == Feasible; }
};

/// Solves `problem` with CBC on one thread, searching at most `maxNodes`
/// branch-and-bound nodes (which keeps the answer the same on every
/// machine) and within `maxSeconds` of wall time (a safety net: a search
/// that stops on time depends on the machine's speed).
MilpResult solveMilp(const Milp &problem, double maxSeconds,
                     int maxNodes = 1000000);

/// "optimal", "time limit", ...: for reports.
const char *toString(MilpResult::Status status);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_MILP_H
