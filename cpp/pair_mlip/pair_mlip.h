/* -*- c++ -*- ----------------------------------------------------------
   pair_style mlip: evaluates a TorchScript model that follows the mlip-lammps model
   contract (docs/model-contract.md) on the full neighbour list of each rank's local atoms.

   This header must stay free of torch headers: the plugin registration unit includes it, and
   keeping torch out of it keeps that unit cheap to compile. All torch state lives in
   PairMLIP::Model, defined in pair_mlip.cpp.
------------------------------------------------------------------------- */

#ifndef LMP_PAIR_MLIP_H
#define LMP_PAIR_MLIP_H

#include "pair.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace LAMMPS_NS {

class PairMLIP : public Pair {
 public:
  PairMLIP(class LAMMPS *);
  ~PairMLIP() override;

  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;

 protected:
  struct Model;    // TorchScript module, device, dtype (opaque here, see pair_mlip.cpp)
  std::unique_ptr<Model> model;

  std::string model_path;
  std::vector<std::string> species;    // model species names; position = model species index
  double cutoff;                       // model cutoff (Angstrom)
  double cutoff_sq;
  int nthreads;                        // torch intra-op threads per MPI rank

  std::vector<int> type2species;    // LAMMPS atom type (1..ntypes) -> species index, -1 = NULL

  // per-step buffers, kept as members and only grown, so steps do not allocate; sized for the
  // upper bound (every listed pair), of which the first n centres / E edges are used
  std::vector<int> center_atom;                 // centre index -> LAMMPS local atom index
  std::vector<int64_t> center_species;          // (n)
  std::vector<int64_t> center_first;            // (n + 1) first edge of each centre
  std::vector<int64_t> edge_center;             // (E) centre index of each edge
  std::vector<int64_t> edge_neighbor_species;   // (E)
  std::vector<int> edge_atom;                   // (E) LAMMPS index (local or ghost) of neighbour
  std::vector<double> edge_vectors;             // (E*3) x[j] - x[i]
  std::vector<float> edge_vectors_f32;          // (E*3) copy for float32 models
  std::vector<double> grad_f64;                 // (E*3) float64 copy of float32 edge gradients

  void allocate();
  void load_model(const std::string &device_request);
};

}    // namespace LAMMPS_NS

#endif
