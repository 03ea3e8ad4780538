/* Fused NEP descriptor kernels (torch-free).

   The same template code (nep_kernel_impl.h) is compiled twice: once for the baseline x86-64
   ISA (namespace mlip_ops::base) and once with AVX2+FMA (namespace mlip_ops::avx2, only where
   the compiler supports it); nep_ops.cpp picks one at run time from the CPU's features.
   Nothing here may use std:: templates or other inline code that the linker could merge across
   the two translation units (an AVX2 copy could then run on a CPU without AVX2): the kernels
   work on raw pointers and scratch memory supplied by the caller.

   The maths is that of NEPModel.descriptors (python/mlip_lammps/models/nep.py); see there.
*/

#ifndef MLIP_OPS_NEP_KERNEL_H
#define MLIP_OPS_NEP_KERNEL_H

#include "nep_ylm_terms.h"

#include <cstdint>

namespace mlip_ops {

template <typename T> struct NepArgs {
  // hyper-parameters
  int n_species;
  int n_radial, n_basis_radial;
  int n_angular, n_basis_angular;
  int l_max;    // 1..4; n_lm = l_max (l_max + 2) components Y_lm, l = 1..l_max, m = -l..l
  T cutoff, cutoff_angular;
  const T *c_radial;     // (S, S, n_radial, n_basis_radial)
  const T *c_angular;    // (S, S, n_angular, n_basis_angular)
  const T *lm_weight;    // (n_lm): 4 pi / (2l + 1) per Y_lm column, as the model stores it
  const T *ylm_coef;     // (YLM_TERMS): coefficients of the Y_lm terms (nep_ylm_terms.h)

  // graph, edges grouped by centre: centre c owns edges order[offsets[c] .. offsets[c+1])
  // where order[k] = perm ? perm[k] : k
  const int64_t *center_species;           // (n)
  const int64_t *edge_neighbor_species;    // (E)
  const T *edge_vectors;                   // (E, 3)
  const int64_t *offsets;                  // (n + 1)
  const int64_t *perm;                     // (E) or nullptr when edges are already grouped
  int64_t max_edges;                       // max over centres of offsets[c+1] - offsets[c]

  // optional per-edge weights b_e multiplying every basis function f_k(r_e) (the screening of
  // models/screening.py); nullptr: b = 1
  const T *bond;    // (E)

  // descriptors: outputs; edge_grad: inputs
  T *q;    // (n, n_radial + n_angular l_max)
  T *A;    // (n, n_angular, n_lm)

  // edge_grad only
  const T *dE_dq;    // (n, n_radial + n_angular l_max)
  T *edge_grad;      // (E, 3)
  T *dE_dbond;       // (E) with bond: dE/db_e at fixed edge vectors
};

// Per-species MLP (SpeciesMLP in nep.py: Linear, tanh, ..., Linear to 1 output) and its input
// gradient, for blocks of atoms of one species. Weights are repacked by nep_ops.cpp: widths
// padded with zeros to multiples of MLP_PAD.
constexpr int MLP_PAD = 16;    // elements; a multiple of every vector width used
constexpr int MLP_BLOCK = 16;  // atoms per block

template <typename T> struct MlpArgs {
  int n_layers;           // Linear layers per net; tanh follows every one but the last
  const int *width;       // (n_layers + 1) padded widths; width[n_layers] = 1 (energy)
  // per net (species) s and layer l, index s * n_layers + l:
  const T *const *Wt;     // (width[l], width[l+1]) W^T, zero padded (l < n_layers - 1)
  const T *const *W;      // (width[l+1], width[l]) W, zero padded (l < n_layers - 1)
  const T *const *b;      // (width[l+1]) bias, zero padded; last layer: weight row (width[l]) in W
  const T *x;             // (n, n_in) inputs
  int n_in;
  const int64_t *order;   // atoms grouped by species
  const int64_t *blocks;  // (n_blocks, 3): first position in order, count (<= MLP_BLOCK), species
  T *y;                   // (n) outputs
  T *dy_dx;               // (n, n_in)
};

// Three-body screening (models/screening.py): S_eff of every edge (forward) or, from dE/dS_eff,
// its contribution to dE/d edge_vectors (backward). Edges grouped by centre as in NepArgs.
template <typename T> struct ScreenArgs {
  int n_species;
  int n_cols;             // spline columns per species triple (knots + 3 zero columns)
  const T *table;         // (S^3, n_cols) spline weights, symmetric in i and j (Screening.table)
  T inv_knot, scale, c_upper, ellipse, outer, taper;
  const int64_t *center_species;    // (n)
  const int64_t *edge_neighbor_species;  // (E)
  const T *edge_vectors;            // (E, 3)
  const int64_t *offsets;           // (n + 1)
  const int64_t *perm;              // (E) or nullptr
  int64_t max_edges;
  T *bond;                // (E) forward output
  const T *dE_dbond;      // (E) backward input
  T *edge_grad;           // (E, 3) backward output
};

// The one-layer equivariant model (models/equivariant.py) with tabulated radial functions:
// eq_features gives its invariants B and the mixed atomic basis A, eq_edge_grad dE/d edge_vectors
// from A and dE/dB. Edges grouped by centre as in NepArgs. Maths: eq_kernel_impl.h.
template <typename T> struct EqArgs {
  int n_species, channels, l_max, correlation;    // l_max 1..4, correlation 1..3
  int n_features;             // channels (1 + l_max [correlation >= 2] + n_triples [>= 3])
  int64_t n_intervals;        // radial table rows
  T step, cutoff;             // knot spacing (Å), cutoff (Å) = n_intervals * step
  const T *table;             // (n_intervals, 4, (l_max + 1) channels) cubic coefficients in t
  const T *embedding;         // (S, channels) neighbour-species embedding
  const T *mixing;            // (l_max + 1, channels, channels) W_l / N_avg
  const T *mixing_t;          // the same, each W_l transposed (eq_edge_grad only)
  int n_triples, nnz;
  const int64_t *gaunt;       // (nnz, 4): lm1, lm2, lm3, triple ((l_max + 1)^2 lm layout)
  const T *gaunt_coef;        // (nnz)
  const T *ylm_coef;          // (YLM_TERMS) as NepArgs
  T y00;                      // Y_00 = 1 / sqrt(4 pi) as the model writes it
  const int64_t *center_species, *edge_neighbor_species, *offsets, *perm;
  const T *edge_vectors;
  int64_t max_edges;
  T *B, *A;                   // eq_features outputs (n, F), (n, n_lm, channels); A input of eq_edge_grad
  const T *dE_dB;             // (n, F)
  T *edge_grad;               // (E, 3)
};

// edges per chunk of the vectorised stages (a multiple of 8)
constexpr int NEP_CHUNK = 32;

// Each range function handles centres [c0, c1) and needs scratch_size(a) elements of scratch
// (any alignment) to itself.
#define MLIP_DECLARE_KERNELS(NS)                                                              \
  namespace NS {                                                                              \
  int64_t scratch_size(const NepArgs<double> &a);                                             \
  int64_t scratch_size(const NepArgs<float> &a);                                              \
  void descriptors(const NepArgs<double> &a, int64_t c0, int64_t c1, double *scratch);        \
  void descriptors(const NepArgs<float> &a, int64_t c0, int64_t c1, float *scratch);          \
  void edge_grad(const NepArgs<double> &a, int64_t c0, int64_t c1, double *scratch);          \
  void edge_grad(const NepArgs<float> &a, int64_t c0, int64_t c1, float *scratch);            \
  int64_t mlp_scratch_size(const MlpArgs<double> &a);                                          \
  int64_t mlp_scratch_size(const MlpArgs<float> &a);                                           \
  void mlp(const MlpArgs<double> &a, int64_t b0, int64_t b1, double *scratch);                 \
  void mlp(const MlpArgs<float> &a, int64_t b0, int64_t b1, float *scratch);                   \
  int64_t screening_scratch_size(const ScreenArgs<double> &a);                                \
  int64_t screening_scratch_size(const ScreenArgs<float> &a);                                 \
  void screening(const ScreenArgs<double> &a, bool grad, int64_t c0, int64_t c1, double *s);  \
  void screening(const ScreenArgs<float> &a, bool grad, int64_t c0, int64_t c1, float *s);    \
  int64_t eq_scratch_size(const EqArgs<double> &a);                                           \
  int64_t eq_scratch_size(const EqArgs<float> &a);                                            \
  void eq_features(const EqArgs<double> &a, int64_t c0, int64_t c1, double *s);               \
  void eq_features(const EqArgs<float> &a, int64_t c0, int64_t c1, float *s);                 \
  void eq_edge_grad(const EqArgs<double> &a, int64_t c0, int64_t c1, double *s);              \
  void eq_edge_grad(const EqArgs<float> &a, int64_t c0, int64_t c1, float *s);                \
  }

MLIP_DECLARE_KERNELS(base)
#ifdef MLIP_OPS_HAVE_AVX2
MLIP_DECLARE_KERNELS(avx2)
#endif
#undef MLIP_DECLARE_KERNELS

}    // namespace mlip_ops

#endif
