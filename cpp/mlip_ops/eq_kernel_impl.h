/* Fused kernels of the one-layer equivariant model (EquivariantModel of
   python/mlip_lammps/models/equivariant.py, with its radial functions tabulated), template
   implementation for one ISA variant; included by nep_kernel_impl.h inside its namespaces (see
   nep_kernel.h for the rules). K = (l_max + 1) C radial functions, l(lm) the degree of lm:

     R_f(r)       = c0 + t (c1 + t (c2 + t c3)),  x = r / h, k = min(floor(x), N - 1), t = x - k,
                    (c0..c3) = table[k, :, f]            (the envelope is part of the table)
     A'_lm,c      = sum_e Y_lm(u_e) R_(l(lm), c)(r_e) emb[s_e, c]     (r_e < r_c)
     A_lm,d       = sum_c A'_lm,c mix[l(lm), c, d]                    (mix = W_l / N_avg)
     B            = [A_00,c | sum_m A_lm,c^2 (l = 1..l_max) | sum_nnz g A_a,c A_b,c A_c',c (triples)]

   in the layout of EquivariantModel.descriptors. The gradient pass gets G = dE/dB, forms dE/dA,
   dE/dA' = dE/dA mix^T, and per edge Z_lm = dE/dY_lm = sum_c dE/dA'_lm,c R_lc emb_c and
   dE/dr = sum_lc emb_c R'_lc sum_(m of l) dE/dA'_lm,c Y_lm, then dE/dv by ylm_grad.

   Edges are processed in chunks of NEP_CHUNK lanes (structure of arrays, as the NEP kernels);
   every inner loop runs over channels or lanes without reductions, so it vectorises without
   reassociation. Results equal the torch code to rounding.
*/

// unaligned vector load/store (channel rows start anywhere when C is not a multiple of W)
template <typename T> inline vec<T> vloadu(const T *p)
{
  vec<T> v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
template <typename T> inline void vstoreu(T *p, vec<T> v) { __builtin_memcpy(p, &v, sizeof(v)); }

template <typename T> struct EqScratch {
  T *ex, *ey, *ez, *er;    // (M) the centre's edges with r < rc
  int64_t *es, *eid;       // (M) neighbour species, edge index
  T *cx, *cy, *cz, *cr, *cir, *dEdr, *ox, *oy, *oz;    // (CH) chunk lanes
  T *Y, *Z;                // (n_lm, CH), row 0 = Y_00
  T *row, *drow;           // (K) one lane's R_f and dR_f/dr
  T *R, *dR;               // forward: (CH, K) emb-weighted R; gradient: (K, PAD) R and dR, weighted
  T *Ap, *dA, *dAp;        // (n_lm, C)
};

template <typename T>
static int64_t eq_carve(const EqArgs<T> &a, T *base, EqScratch<T> *s)
{
  Carver<T> cv{base};
  const int64_t M = round_up(a.max_edges > 0 ? a.max_edges : 1, cv.al);
  const int64_t CH = NEP_CHUNK, C = a.channels, K = (a.l_max + 1) * C;
  const int64_t NLM = (a.l_max + 1) * (a.l_max + 1);
  auto take = [&](int64_t n) { return cv.take(n); };
  auto take_i = [&](int64_t n) { return cv.take_i(n); };
  EqScratch<T> t{};
  t.ex = take(M);
  t.ey = take(M);
  t.ez = take(M);
  t.er = take(M);
  t.es = take_i(M);
  t.eid = take_i(M);
  t.cx = take(CH);
  t.cy = take(CH);
  t.cz = take(CH);
  t.cr = take(CH);
  t.cir = take(CH);
  t.dEdr = take(CH);
  t.ox = take(CH);
  t.oy = take(CH);
  t.oz = take(CH);
  t.Y = take(NLM * CH);
  t.Z = take(NLM * CH);
  t.row = take(K);
  t.drow = take(K);
  t.R = take(K * CH);
  t.dR = take(K * CH);
  t.Ap = take(NLM * C);
  t.dA = take(NLM * C);
  t.dAp = take(NLM * C);
  if (s) *s = t;
  return cv.size();
}

// the edges of centre c with r < rc into s.ex.. (returns their number); with ZERO_OUT the
// others get a zero gradient
template <typename T, bool ZERO_OUT>
inline int64_t eq_gather(const EqArgs<T> &a, int64_t c, const EqScratch<T> &s)
{
  int64_t cnt = 0;
  for (int64_t k = a.offsets[c]; k < a.offsets[c + 1]; k++) {
    const int64_t e = a.perm ? a.perm[k] : k;
    const T *v = a.edge_vectors + 3 * e;
    const T r = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (r < a.cutoff) {
      s.ex[cnt] = v[0];
      s.ey[cnt] = v[1];
      s.ez[cnt] = v[2];
      s.er[cnt] = r;
      s.es[cnt] = a.edge_neighbor_species[e];
      s.eid[cnt] = e;
      cnt++;
    } else if (ZERO_OUT) {
      T *ge = a.edge_grad + 3 * e;
      ge[0] = ge[1] = ge[2] = T(0);
    }
  }
  return cnt;
}

// chunk lanes [0, len) <- gathered edges j0 .. j0 + n: unit vectors, 1/r and Y_lm (row 0: Y_00);
// dummy lanes n .. len point along x (the features pass skips them, the gradient pass zeroes
// their radial rows)
template <typename T, int L>
inline void eq_chunk_geometry(const EqArgs<T> &a, const EqScratch<T> &s, int64_t j0, int n, int len)
{
  constexpr int W = VT<T>::W;
  for (int m = 0; m < n; m++) {
    s.cx[m] = s.ex[j0 + m];
    s.cy[m] = s.ey[j0 + m];
    s.cz[m] = s.ez[j0 + m];
    s.cr[m] = s.er[j0 + m];
  }
  for (int m = n; m < len; m++) {
    s.cx[m] = T(1);
    s.cy[m] = s.cz[m] = T(0);
    s.cr[m] = T(1);
  }
  for (int m = 0; m < len; m += W) {
    const vec<T> inv = T(1) / vload(s.cr + m);
    vstore(s.cir + m, inv);
    vstore(s.cx + m, vload(s.cx + m) * inv);
    vstore(s.cy + m, vload(s.cy + m) * inv);
    vstore(s.cz + m, vload(s.cz + m) * inv);
  }
  for (int m = 0; m < len; m++) s.Y[m] = a.y00;
  ylm<T, L>(a.ylm_coef, s.cx, s.cy, s.cz, len, s.Y + NEP_CHUNK);
}

// out[j] = sum_i v[i] M[i C + j], j < C (each output vector summed in a register)
template <typename T> inline void eq_vecmat(const T *v, const T *M, int C, T *out)
{
  constexpr int W = VT<T>::W;
  int j = 0;
  for (; j + W <= C; j += W) {
    vec<T> sum{};
    for (int i = 0; i < C; i++) sum += v[i] * vloadu(M + i * C + j);
    vstoreu(out + j, sum);
  }
  for (; j < C; j++) {
    T sum = T(0);
    for (int i = 0; i < C; i++) sum += v[i] * M[i * C + j];
    out[j] = sum;
  }
}

// the table interval k of distance r (0 <= r < r_c) and the position t = r/h - k in it
template <typename T> inline int64_t eq_interval(const EqArgs<T> &a, T r, T &t)
{
  const T x = r / a.step;
  int64_t k = static_cast<int64_t>(x);    // floor (x >= 0)
  if (k > a.n_intervals - 1) k = a.n_intervals - 1;
  t = x - static_cast<T>(k);
  return k;
}

// start loading the table rows of an edge at distance r (K functions) into the cache
template <typename T> inline void eq_prefetch(const EqArgs<T> &a, T r, int K)
{
  T t;
  const int64_t k = eq_interval(a, r, t);
  const char *p = reinterpret_cast<const char *>(a.table + k * 4 * K);
  for (int64_t b = 0; b < static_cast<int64_t>(4 * K * sizeof(T)); b += 64) __builtin_prefetch(p + b);
}

// emb_c R_lc(r) (and emb_c dR_lc/dr) of one edge into row (drow), index l C + c, l < L1
template <typename T, bool GRAD>
inline void eq_radial(const EqArgs<T> &a, T r, const T *__restrict emb, int L1, int C,
                      T *__restrict row, T *__restrict drow)
{
  T t;
  const int64_t k = eq_interval(a, r, t);
  const int K = L1 * C;
  const T ih = T(1) / a.step;
  const T *c = a.table + k * 4 * K;
  constexpr int W = VT<T>::W;
  for (int o = 0; o < K; o += C) {
    const T *__restrict c0 = c + o, *__restrict c1 = c + K + o, *__restrict c2 = c + 2 * K + o,
                        *__restrict c3 = c + 3 * K + o;
    int ch = 0;
    for (; ch + W <= C; ch += W) {    // explicit vectors: no aliasing checks per block
      const vec<T> e = vloadu(emb + ch), b1 = vloadu(c1 + ch), b2 = vloadu(c2 + ch), b3 = vloadu(c3 + ch);
      vstoreu(row + o + ch, (vloadu(c0 + ch) + t * (b1 + t * (b2 + t * b3))) * e);
      if (GRAD) vstoreu(drow + o + ch, (b1 + t * (T(2) * b2 + T(3) * t * b3)) * ih * e);
    }
    for (; ch < C; ch++) {
      row[o + ch] = (c0[ch] + t * (c1[ch] + t * (c2[ch] + t * c3[ch]))) * emb[ch];
      if (GRAD) drow[o + ch] = (c1[ch] + t * (T(2) * c2[ch] + T(3) * t * c3[ch])) * ih * emb[ch];
    }
  }
}

// the degree l of every lm = l^2 .. l^2 + 2l, lm < (L + 1)^2
template <int L> struct LmDegrees {
  int l[(L + 1) * (L + 1)];
  constexpr LmDegrees() : l()
  {
    for (int d = 0, lm = 0; d <= L; d++)
      for (int m = 0; m <= 2 * d; m++) l[lm++] = d;
  }
  constexpr int operator[](int lm) const { return l[lm]; }
};

// B (n, F) and A (n, n_lm, C) of centres [c0, c1)
template <typename T, int L>
void eq_features_l(const EqArgs<T> &a, int64_t c0, int64_t c1, T *scratch)
{
  constexpr int NLM = (L + 1) * (L + 1);
  constexpr int W = VT<T>::W;
  const int CH = NEP_CHUNK, C = a.channels, K = (L + 1) * C, F = a.n_features;
  EqScratch<T> s;
  eq_carve<T>(a, align64(scratch), &s);
  constexpr LmDegrees<L> lm_l{};

  for (int64_t c = c0; c < c1; c++) {
    T *Ap = s.Ap;
    for (int i = 0; i < NLM * C; i++) Ap[i] = T(0);
    const int64_t cnt = eq_gather<T, false>(a, c, s);
    for (int64_t j0 = 0; j0 < cnt; j0 += CH) {
      const int n = static_cast<int>((cnt - j0) < CH ? (cnt - j0) : CH);
      const int len = static_cast<int>(round_up(n, PAD<T>));
      eq_chunk_geometry<T, L>(a, s, j0, n, len);
      for (int m = 0; m < n; m++) {
        if (m + 1 < n) eq_prefetch(a, s.cr[m + 1], K);
        eq_radial<T, false>(a, s.cr[m], a.embedding + s.es[j0 + m] * C, L + 1, C, s.R + m * K, nullptr);
      }
      // Ap_lm,c += sum over lanes of Y_lm hR_l(lm),c
      // (one channel vector of one lm at a time, summed over the lanes in a register)
      for (int lm = 0; lm < NLM; lm++) {
        const T *Ylm = s.Y + lm * CH;
        const T *hl = s.R + lm_l[lm] * C;
        T *acc = Ap + lm * C;
        int ch = 0;
        for (; ch + W <= C; ch += W) {
          vec<T> sum = vloadu(acc + ch);
          for (int m = 0; m < n; m++) sum += Ylm[m] * vloadu(hl + m * K + ch);
          vstoreu(acc + ch, sum);
        }
        for (; ch < C; ch++)
          for (int m = 0; m < n; m++) acc[ch] += Ylm[m] * hl[m * K + ch];
      }
    }
    // channel mixing per l (1/N_avg included)
    T *A = a.A + c * NLM * C;
    for (int lm = 0; lm < NLM; lm++) eq_vecmat(Ap + lm * C, a.mixing + lm_l[lm] * C * C, C, A + lm * C);
    // invariants
    T *B = a.B + c * F;
    for (int d = 0; d < C; d++) B[d] = A[d];
    int off = C;
    if (a.correlation >= 2) {
      for (int l = 1; l <= L; l++) {
        T *b = B + off + (l - 1) * C;
        for (int d = 0; d < C; d++) b[d] = T(0);
        for (int lm = l * l; lm < (l + 1) * (l + 1); lm++)
          for (int d = 0; d < C; d++) b[d] += A[lm * C + d] * A[lm * C + d];
      }
      off += L * C;
    }
    if (a.correlation >= 3) {
      for (int i = 0; i < a.n_triples * C; i++) B[off + i] = T(0);
      for (int q = 0; q < a.nnz; q++) {
        const int64_t *g = a.gaunt + 4 * q;
        const T coef = a.gaunt_coef[q];
        const T *x1 = A + g[0] * C, *x2 = A + g[1] * C, *x3 = A + g[2] * C;
        T *b = B + off + g[3] * C;
        for (int d = 0; d < C; d++) b[d] += x1[d] * x2[d] * x3[d] * coef;
      }
    }
  }
}

// dE/d edge_vectors of centres [c0, c1) from A and G = dE/dB
template <typename T, int L>
void eq_edge_grad_l(const EqArgs<T> &a, int64_t c0, int64_t c1, T *scratch)
{
  using V = vec<T>;
  constexpr int NLM = (L + 1) * (L + 1);
  constexpr int W = VT<T>::W;
  const int CH = NEP_CHUNK, C = a.channels, K = (L + 1) * C, F = a.n_features;
  EqScratch<T> s;
  eq_carve<T>(a, align64(scratch), &s);
  constexpr LmDegrees<L> lm_l{};

  for (int64_t c = c0; c < c1; c++) {
    const T *A = a.A + c * NLM * C;
    const T *G = a.dE_dB + c * F;
    T *dA = s.dA;
    for (int i = 0; i < NLM * C; i++) dA[i] = T(0);
    for (int d = 0; d < C; d++) dA[d] = G[d];
    int off = C;
    if (a.correlation >= 2) {
      for (int lm = 1; lm < NLM; lm++) {
        const T *g = G + off + (lm_l[lm] - 1) * C;
        for (int d = 0; d < C; d++) dA[lm * C + d] = T(2) * g[d] * A[lm * C + d];
      }
      off += L * C;
    }
    if (a.correlation >= 3) {
      // d1, d2, d3 may coincide (l1 = l2): one update after the other, in channel blocks
      for (int q = 0; q < a.nnz; q++) {
        const int64_t *g = a.gaunt + 4 * q;
        const T coef = a.gaunt_coef[q];
        const T *x1 = A + g[0] * C, *x2 = A + g[1] * C, *x3 = A + g[2] * C;
        const T *gb = G + off + g[3] * C;
        T *d1 = dA + g[0] * C, *d2 = dA + g[1] * C, *d3 = dA + g[2] * C;
        int d = 0;
        for (; d + W <= C; d += W) {
          const V w = vloadu(gb + d) * coef, y1 = vloadu(x1 + d), y2 = vloadu(x2 + d), y3 = vloadu(x3 + d);
          vstoreu(d1 + d, vloadu(d1 + d) + w * y2 * y3);
          vstoreu(d2 + d, vloadu(d2 + d) + w * y1 * y3);
          vstoreu(d3 + d, vloadu(d3 + d) + w * y1 * y2);
        }
        for (; d < C; d++) {
          const T w = gb[d] * coef;
          d1[d] += w * x2[d] * x3[d];
          d2[d] += w * x1[d] * x3[d];
          d3[d] += w * x1[d] * x2[d];
        }
      }
    }
    // dE/dA'_lm,c = sum_d mix[l, c, d] dE/dA_lm,d (mixing_t: mix transposed, rows over c)
    T *dAp = s.dAp;
    for (int lm = 0; lm < NLM; lm++) eq_vecmat(dA + lm * C, a.mixing_t + lm_l[lm] * C * C, C, dAp + lm * C);

    const int64_t cnt = eq_gather<T, true>(a, c, s);
    for (int64_t j0 = 0; j0 < cnt; j0 += CH) {
      const int n = static_cast<int>((cnt - j0) < CH ? (cnt - j0) : CH);
      const int len = static_cast<int>(round_up(n, PAD<T>));
      eq_chunk_geometry<T, L>(a, s, j0, n, len);
      // blocks of SB lanes, so R, dR (K, SB) stay in L1 and Z, dE/dr in registers
      constexpr int SB = PAD<T>;
      for (int b0 = 0; b0 < len; b0 += SB) {
        // emb-weighted R_f and dR_f/dr of the block's lanes; dummy lanes zero
        for (int i = 0; i < SB; i++) {
          const int m = b0 + i;
          if (m < n) {
            if (m + 1 < n) eq_prefetch(a, s.cr[m + 1], K);
            eq_radial<T, true>(a, s.cr[m], a.embedding + s.es[j0 + m] * C, L + 1, C, s.row, s.drow);
            for (int f = 0; f < K; f++) {
              s.R[f * SB + i] = s.row[f];
              s.dR[f * SB + i] = s.drow[f];
            }
          } else {
            for (int f = 0; f < K; f++) s.R[f * SB + i] = s.dR[f * SB + i] = T(0);
          }
        }
        // Z_lm = sum_c dAp_lm,c R_lc
        for (int lm = 0; lm < NLM; lm++) {
          V z0{}, z1{};
          const T *Rl = s.R + lm_l[lm] * C * SB;
          for (int ch = 0; ch < C; ch++) {
            const T w = dAp[lm * C + ch];
            z0 += w * vload(Rl + ch * SB);
            z1 += w * vload(Rl + ch * SB + W);
          }
          vstore(s.Z + lm * CH + b0, z0);
          vstore(s.Z + lm * CH + b0 + W, z1);
        }
        // dE/dr = sum_lc dR_lc sum_(m of l) dAp_lm,c Y_lm
        V d0{}, d1{};
        for (int l = 0; l <= L; l++)
          for (int ch = 0; ch < C; ch++) {
            V y0{}, y1{};
            for (int lm = l * l; lm < (l + 1) * (l + 1); lm++) {
              const T w = dAp[lm * C + ch];
              y0 += w * vload(s.Y + lm * CH + b0);
              y1 += w * vload(s.Y + lm * CH + b0 + W);
            }
            const T *dRr = s.dR + (l * C + ch) * SB;
            d0 += y0 * vload(dRr);
            d1 += y1 * vload(dRr + W);
          }
        vstore(s.dEdr + b0, d0);
        vstore(s.dEdr + b0 + W, d1);
      }
      ylm_grad<T, L>(a.ylm_coef, s.cx, s.cy, s.cz, s.cir, s.Z + CH, s.dEdr, len, s.ox, s.oy, s.oz);
      for (int m = 0; m < n; m++) {
        T *ge = a.edge_grad + 3 * s.eid[j0 + m];
        ge[0] = s.ox[m];
        ge[1] = s.oy[m];
        ge[2] = s.oz[m];
      }
    }
  }
}

template <typename T> void eq_features_t(const EqArgs<T> &a, int64_t c0, int64_t c1, T *s)
{
  with_l_max(a.l_max, [&](auto L) { eq_features_l<T, decltype(L)::value>(a, c0, c1, s); });
}

template <typename T> void eq_edge_grad_t(const EqArgs<T> &a, int64_t c0, int64_t c1, T *s)
{
  with_l_max(a.l_max, [&](auto L) { eq_edge_grad_l<T, decltype(L)::value>(a, c0, c1, s); });
}
