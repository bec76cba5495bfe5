// SolveBatch and LpUpperBound: the adapter between the batch program and COIN-OR CBC/Clp.
#include "optimizer/batch_ilp.h"

#include <CbcModel.hpp>
#include <CbcSolver.hpp>
#include <CoinError.hpp>
#include <CoinPackedMatrix.hpp>
#include <OsiClpSolverInterface.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <string>

#include "optimizer/ilp_model.h"

namespace fastgpu::opt {
namespace {

using internal::IlpModel;

// Loads `m` into a silent Clp interface as a minimisation of the negated objective.
void LoadSolver(const IlpModel& m, OsiClpSolverInterface& solver, bool integer) {
  solver.messageHandler()->setLogLevel(0);
  solver.getModelPtr()->setLogLevel(0);
  const double inf = solver.getInfinity();
  CoinPackedMatrix matrix(true, m.elem_row.data(), m.elem_col.data(), m.elem_value.data(),
                          static_cast<CoinBigIndex>(m.elem_value.size()));
  matrix.setDimensions(m.rows(), m.columns());
  std::vector<double> obj(m.objective.size());
  std::transform(m.objective.begin(), m.objective.end(), obj.begin(), [](double v) { return -v; });
  std::vector<double> row_lb = m.row_lb, row_ub = m.row_ub;
  for (double& v : row_lb) v = v <= -1e29 ? -inf : v;
  for (double& v : row_ub) v = v >= 1e29 ? inf : v;
  solver.loadProblem(matrix, m.col_lb.data(), m.col_ub.data(), obj.data(), row_lb.data(),
                     row_ub.data());
  if (integer) {
    for (int c = 0; c < m.columns(); ++c) solver.setInteger(c);
  }
}

// The optimum of the LP relaxation of `m` (maximised), or a failure.
Result<double> SolveRelaxation(const IlpModel& m) {
  OsiClpSolverInterface solver;
  LoadSolver(m, solver, /*integer=*/false);
  solver.initialSolve();
  if (!solver.isProvenOptimal()) return Internal("Clp did not solve the LP relaxation");
  return -solver.getObjValue();
}

Status ToStatus(const CoinError& e) {
  return Internal("CBC: " + e.message() + " in " + e.className() + "::" + e.methodName());
}

}  // namespace

Result<IlpSolution> SolveBatch(const IlpProblem& problem, const IlpOptions& options) {
  FASTGPU_RETURN_IF_ERROR(ValidateProblem(problem));
  const auto start = std::chrono::steady_clock::now();
  std::vector<IlpRequestPlacement> warm = GreedyPlacement(problem);
  IlpSolution out;
  out.warm_start_objective = PlacementObjective(problem, warm, options.placement_bonus);
  if (options.warm_start) {
    FASTGPU_RETURN_IF_ERROR(CheckPlacement(problem, *options.warm_start).WithContext("warm start"));
    const int64_t given = PlacementObjective(problem, *options.warm_start, options.placement_bonus);
    // The solver starts from the better of the caller's placement and the greedy one.
    if (given >= out.warm_start_objective) warm = *options.warm_start;
    out.warm_start_objective = given;
  }
  const IlpModel m = internal::BuildIlpModel(problem, options, &warm);
  out.columns = m.columns();
  out.rows = m.rows();
  Result<std::vector<double>> warm_cols = internal::PlacementToColumns(problem, m, warm);

  std::vector<IlpRequestPlacement> best = warm;
  int64_t best_objective = PlacementObjective(problem, warm, options.placement_bonus);
  double bound = 0;
  bool proven = false;
  try {
    OsiClpSolverInterface solver;
    LoadSolver(m, solver, /*integer=*/true);
    std::vector<std::pair<std::string, double>> mip_start;
    for (int c = 0; c < m.columns(); ++c) {
      solver.setColName(c, "x" + std::to_string(c));
      if (warm_cols.ok()) mip_start.emplace_back("x" + std::to_string(c), (*warm_cols)[c]);
    }
    CbcModel model(solver);
    CbcSolverUsefulData data;
    CbcMain0(model, data);
    model.setLogLevel(0);
    if (!mip_start.empty()) model.setMIPStart(mip_start);
    const std::string seconds = std::to_string(std::max(0.0, options.time_limit_s));
    const std::string gap = std::to_string(std::max(0.0, options.relative_gap_limit));
    // Preprocessing is off: CglPreProcess::postProcess crashes in CBC 2.10.8 when the
    // time limit stops the search on some of these programs.
    const char* argv[] = {"fastgpu", "-log",          "0",         "-timeMode", "elapsed",
                          "-sec",    seconds.c_str(), "-ratioGap", gap.c_str(), "-allowableGap",
                          "0.5",     "-preprocess",   "off",       "-solve",    "-quit"};
    CbcMain1(
        static_cast<int>(std::size(argv)), argv, model, [](CbcModel*, int) { return 0; }, data);
    proven = model.isProvenOptimal();
    bound = -model.getBestPossibleObjValue();
    if (model.bestSolution() != nullptr) {
      std::vector<IlpRequestPlacement> found =
          internal::ExtractPlacement(problem, m, model.bestSolution());
      const int64_t objective = PlacementObjective(problem, found, options.placement_bonus);
      if (CheckPlacement(problem, found).ok() && objective >= best_objective) {
        best = std::move(found);
        best_objective = objective;
      }
      if (proven) bound = std::max(bound, -model.getObjValue());
    }
    if (!std::isfinite(bound)) {
      // Stopped before the root bound was known: the LP relaxation still bounds.
      FASTGPU_ASSIGN_OR_RETURN(bound, SolveRelaxation(m));
    }
  } catch (const CoinError& e) {
    return ToStatus(e);
  } catch (const std::exception& e) {
    return Internal(std::string("CBC: ") + e.what());
  }

  out.placements = std::move(best);
  out.objective = best_objective;
  out.allocated_gpu_milli = AllocatedGpuMilli(problem, out.placements);
  // A bound below the incumbent (numerical slack, or a cutoff) is lifted to it.
  out.best_bound = std::isfinite(bound) ? std::max(bound, static_cast<double>(best_objective))
                                        : static_cast<double>(best_objective);
  if (proven) out.best_bound = std::max(static_cast<double>(best_objective), bound);
  const double gap = out.best_bound - static_cast<double>(best_objective);
  out.status = gap < 0.5 ? IlpStatus::kOptimal
                         : (best_objective > 0 ? IlpStatus::kFeasible : IlpStatus::kNoSolution);
  out.relative_gap = out.status == IlpStatus::kOptimal ? 0 : gap / std::max(1.0, out.best_bound);
  out.solve_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Result<double> LpUpperBound(const IlpProblem& problem, const IlpOptions& options) {
  FASTGPU_RETURN_IF_ERROR(ValidateProblem(problem));
  IlpOptions exact = options;
  exact.max_candidate_nodes = 0;
  const IlpModel m = internal::BuildIlpModel(problem, exact, nullptr);
  try {
    return SolveRelaxation(m);
  } catch (const CoinError& e) {
    return ToStatus(e);
  } catch (const std::exception& e) {
    return Internal(std::string("Clp: ") + e.what());
  }
}

}  // namespace fastgpu::opt
