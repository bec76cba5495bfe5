// IlpModel: the batch integer program as plain arrays, and the maps between a placement
// and the program's variables. Internal to src/optimizer; built by BuildIlpModel, solved
// by batch_ilp.cpp through CBC.
//
// Variables (all integer, objective maximised):
//   place[r]       0/1: request r placed (all of its replicas); objective weight
//                  replicas * GPU milli per replica (+ bonus)
//   frac[r,g]      replicas of fractional request r on GPU g
//   whole[r,n]     replicas of whole-GPU request r on node n (each takes gpu_count GPUs)
//   cpu[r,n]       replicas of CPU-only request r on node n
//   take[g]        0/1: fully free GPU g given whole to some replica (nodes with whole[])
// Rows: gang (sum of r's replicas == replicas * place[r]); per GPU compute
// (sum milli * frac + 1000 * take <= free milli) and memory where asked; per node
// whole GPUs (sum gpu_count * whole <= sum take), CPU and memory; and, among identical
// GPUs of one node, used compute non-increasing by index (symmetry breaking).
// Identical nodes beyond the batch's replica count are left out: no batch can use more
// of them, so the optimum is unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "optimizer/batch_ilp.h"

namespace fastgpu::opt::internal {

enum class VarKind { kPlace, kFrac, kWhole, kCpu, kTake };

struct IlpVar {
  VarKind kind = VarKind::kPlace;
  int request = -1;  // -1 for kTake
  int node = -1;     // -1 for kPlace
  int gpu = -1;      // for kFrac and kTake
};

struct IlpModel {
  std::vector<IlpVar> vars;
  std::vector<double> col_lb, col_ub, objective;  // objective: maximised
  std::vector<double> row_lb, row_ub;
  std::vector<int> elem_row, elem_col;
  std::vector<double> elem_value;
  std::vector<int> place_col;  // per request

  int AddColumn(IlpVar var, double ub, double objective_weight);
  int AddRow(double lb, double ub);
  void AddElement(int row, int col, double value);
  int columns() const { return static_cast<int>(vars.size()); }
  int rows() const { return static_cast<int>(row_lb.size()); }
};

// Builds the program. `warm_start`, when given, keeps every node it uses in the model.
IlpModel BuildIlpModel(const IlpProblem& problem, const IlpOptions& options,
                       const std::vector<IlpRequestPlacement>* warm_start);

// The placement that an integral solution `x` (one value per column) describes.
std::vector<IlpRequestPlacement> ExtractPlacement(const IlpProblem& problem, const IlpModel& model,
                                                  const double* x);

// The column values of a feasible placement (GPUs permuted within identical groups to
// meet the symmetry rows); NotFound when the placement uses a variable the model lacks.
Result<std::vector<double>> PlacementToColumns(const IlpProblem& problem, const IlpModel& model,
                                               const std::vector<IlpRequestPlacement>& placement);

}  // namespace fastgpu::opt::internal
