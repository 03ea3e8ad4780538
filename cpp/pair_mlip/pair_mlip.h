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
#include <cstdio>
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
  void *extract(const char *, int &) override;
  void *extract_peratom(const char *, int &) override;
  int pack_reverse_comm(int, int, double *) override;
  void unpack_reverse_comm(int, int *, double *) override;

 protected:
  struct Model;    // TorchScript module(s), device, dtype (opaque here, see pair_mlip.cpp)
  std::unique_ptr<Model> model;

  std::vector<std::string> model_paths;    // one model, one committee file, or committee members
  int nmembers;                            // committee members (1: a single model)
  std::vector<std::string> species;    // model species names; position = model species index
  double cutoff;                       // model cutoff (Angstrom)
  double cutoff_sq;
  int nthreads;                        // torch intra-op threads per MPI rank
  double min_dist;                     // closer pairs are an error (Angstrom; 0 = no check)
  int chunk_atoms;                     // local atoms per model call (0 = all at once)
  bool ghost_nodes;                    // message passing on several ranks: ghosts are graph nodes
  bool ghost_graph_logged;             // the size of rank 0's ghost-node graph was logged this run

  // committee force deviation (the active-learning signal), docs/lammps.md
  int out_freq;                        // write deviations every this many steps (0 = never)
  std::string out_file;
  FILE *out_fp;                        // rank 0 only
  bigint last_out_step;
  int deviation_flag;                  // set by fix pair (force_deviation_flag) for one step
  std::vector<double> force_deviation;    // (nmax) per-atom deviation of the last deviation step
  std::vector<double> member_forces;      // (nall, M, 3) per-member forces, reverse communicated
  std::vector<double> member_energy_sum;  // (M) members' energies of this rank's atoms
  std::vector<double> extra_values;       // pvector: max, min, mean force deviation (eV/A) and energy
                                          // deviation (eV/atom) on rank 0, zeros elsewhere

  std::vector<int> type2species;    // LAMMPS atom type (1..ntypes) -> species index, -1 = NULL

  // per-step buffers, kept as members and only grown, so steps do not allocate; sized for the
  // upper bound (every listed pair of a chunk), of which the first n centres / E edges are used
  std::vector<int> center_atom;                 // centre index -> LAMMPS local atom index
  std::vector<int64_t> center_species;          // (n)
  std::vector<int64_t> center_first;            // (n + 1) first edge of each centre
  std::vector<int64_t> edge_center;             // (E) centre index of each edge
  std::vector<int64_t> edge_neighbor_species;   // (E)
  std::vector<int> edge_atom;                   // (E) LAMMPS index (local or ghost) of neighbour
  std::vector<double> edge_vectors;             // (E*3) x[j] - x[i]
  std::vector<float> edge_vectors_f32;          // (E*3) copy for float32 models
  std::vector<double> grad_f64;                 // (E*3) float64 copy of float32 edge gradients
  std::vector<int64_t> edge_owner;              // (E) message passing: node of the neighbour
  std::vector<int64_t> tag2center;              // message passing: atom ID -> centre index
  std::vector<int64_t> atom_node;               // ghost nodes: LAMMPS index -> node (-1: none)

  void allocate();
  void load_models(const std::string &device_request);
  void compute_chunk(int first, int last, bool deviation_step);
  void compute_ghost_nodes(bool deviation_step);
  void reserve_graph(int64_t ncenters, int64_t max_edges);
  int64_t add_edges(int64_t c, int i, int64_t nedges, double &rsq_min);
  void evaluate(int64_t n, int64_t nsrc, int64_t nedges, bool deviation_step);
  void edge_owners(int64_t n, int64_t nedges);
  void add_member_forces(int64_t n, int64_t nsrc, int64_t nedges, const double *member_grad,
                         const double *member_energy);
  void finish_deviation();
  [[noreturn]] void too_close(int64_t nedges, double rsq_min);
};

}    // namespace LAMMPS_NS

#endif
