/* device.c: device selection and the CUDA backend module (see device.h). */
#include "device.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "backend-module.h"
#include "block.h"
#include "device-config.h"

typedef struct {
  char *path; /* NULL: this build has no module */
  void *handle;
  char *error; /* why it could not be loaded */
  LlBackendModuleOpenFn open;
  LlBackendModuleDeviceCountFn count;
} Module;

#ifdef LL_CUDA_MODULE_BUILT
/* Inside the build tree when the running executable is (tests, ./build/app/layerlab). */
static gboolean running_uninstalled(void)
{
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  return exe && g_str_has_prefix(exe, LL_BUILD_ROOT "/");
}
#endif

static char *module_path(void)
{
  const char *env = g_getenv("LAYERLAB_CUDA_MODULE");
  if (env && *env)
    return g_strdup(env);
#ifdef LL_CUDA_MODULE_BUILT
  if (running_uninstalled())
    return g_strdup(LL_CUDA_MODULE_BUILT);
#endif
#ifdef LL_CUDA_MODULE_INSTALLED
  return g_strdup(LL_CUDA_MODULE_INSTALLED);
#else
  return NULL;
#endif
}

/* The NVIDIA driver's library, without keeping it loaded. */
static gboolean driver_present(void)
{
  void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (h)
    dlclose(h);
  return h != NULL;
}

static Module *module_get(void)
{
  static Module m;
  static gsize once;
  if (!g_once_init_enter(&once))
    return &m;
  m.path = module_path();
  const char *env = g_getenv("LAYERLAB_CUDA_MODULE");
  if (!m.path) {
    m.error = g_strdup("this build of LayerLab has no CUDA backend (built with -Dcuda=disabled "
                       "or without nvcc)");
  } else if (!(env && *env) && !driver_present()) {
    /* loading the module initialises its static CUDA runtime: about 150 MiB
     * of memory for nothing on a machine without a driver (a module named by
     * LAYERLAB_CUDA_MODULE is always loaded, to diagnose it) */
    m.error = g_strdup("no usable NVIDIA GPU: no NVIDIA driver is installed (libcuda.so.1 not "
                       "found)");
  } else if (!(m.handle = dlopen(m.path, RTLD_NOW | RTLD_LOCAL))) {
    const char *why = dlerror();
    m.error = g_strdup_printf("cannot load the CUDA backend module: %s", why ? why : m.path);
  } else {
    LlBackendModuleAbiFn abi = (LlBackendModuleAbiFn)dlsym(m.handle, LL_BACKEND_MODULE_ABI_SYMBOL);
    m.open = (LlBackendModuleOpenFn)dlsym(m.handle, LL_BACKEND_MODULE_OPEN_SYMBOL);
    m.count = (LlBackendModuleDeviceCountFn)dlsym(m.handle, LL_BACKEND_MODULE_DEVICE_COUNT_SYMBOL);
    if (!abi || !m.open || !m.count) {
      m.error = g_strdup_printf("%s is not a LayerLab CUDA backend module", m.path);
    } else if (abi() != sizeof(LlBackend)) {
      m.error = g_strdup_printf("%s was built for another version of LayerLab (backend table of "
                                "%zu bytes, this program's has %zu): rebuild it",
                                m.path, abi(), sizeof(LlBackend));
    }
    if (m.error) {
      m.open = NULL;
      m.count = NULL;
    }
  }
  g_once_init_leave(&once, 1);
  return &m;
}

const char *ll_device_cuda_module_path(void) { return module_get()->path; }

/* The GPUs, one name per element, or NULL with the reason in *why. */
static GPtrArray *gpu_names(char **why)
{
  Module *m = module_get();
  if (!m->count) {
    *why = g_strdup(m->error);
    return NULL;
  }
  char names[4096];
  int n = m->count(names, sizeof names);
  if (n <= 0) {
    *why = n < 0 ? g_strdup_printf("no usable NVIDIA GPU: %s", names)
                 : g_strdup("no NVIDIA GPU found");
    return NULL;
  }
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  char **lines = g_strsplit(names, "\n", -1);
  for (int i = 0; i < n; i++)
    g_ptr_array_add(a, g_strdup(lines[i] && *lines[i] ? lines[i] : "(unnamed GPU)"));
  g_strfreev(lines);
  *why = NULL;
  return a;
}

GPtrArray *ll_devices_list(void)
{
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(a, g_strdup_printf("cpu: %u cores (OpenBLAS)", g_get_num_processors()));
  g_autofree char *why = NULL;
  g_autoptr(GPtrArray) gpus = gpu_names(&why);
  for (guint i = 0; gpus && i < gpus->len; i++)
    g_ptr_array_add(a, g_strdup_printf("cuda:%u: %s", i, (char *)gpus->pdata[i]));
  return a;
}

char *ll_devices_cuda_note(void)
{
  char *why = NULL;
  g_autoptr(GPtrArray) gpus = gpu_names(&why);
  return why;
}

/* "cuda" -> 0, "cuda:3" -> 3; -1 when device names no GPU. */
static int cuda_index(const char *device)
{
  if (!strcmp(device, "cuda"))
    return 0;
  if (!g_str_has_prefix(device, "cuda:"))
    return -1;
  const char *num = device + 5;
  guint64 v;
  if (!*num || !g_ascii_string_to_unsigned(num, 10, 0, 1023, &v, NULL))
    return -1;
  return (int)v;
}

static const LlBackend *open_gpu(int index, char **why)
{
  Module *m = module_get();
  if (!m->open) {
    *why = g_strdup(m->error);
    return NULL;
  }
  g_autoptr(GPtrArray) gpus = gpu_names(why);
  if (!gpus)
    return NULL;
  if (index >= (int)gpus->len) {
    *why = g_strdup_printf("there is no GPU %d: this machine has %u (see `layerlab devices`)",
                           index, gpus->len);
    return NULL;
  }
  char err[512] = "";
  const LlBackend *be = m->open(index, err, sizeof err);
  if (!be)
    *why = g_strdup(err[0] ? err : "the CUDA backend could not be opened");
  return be;
}

const LlBackend *ll_device_backend_full(const char *device, char **note, GError **error)
{
  if (note)
    *note = NULL;
  if (!device || !strcmp(device, "auto")) {
    char *why = NULL;
    const LlBackend *be = open_gpu(0, &why);
    if (be)
      return be;
    if (note)
      *note = g_strdup_printf("device auto: using the CPU (%s)", why);
    g_free(why);
    return ll_cpu_backend();
  }
  if (!strcmp(device, "cpu"))
    return ll_cpu_backend();
  if (!strcmp(device, "ref")) /* the double-precision reference: slow, for checking */
    return ll_ref_backend();
  int index = cuda_index(device);
  if (index < 0) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_BAD_VALUE,
                "device \"%s\": not one of auto, cpu, ref, cuda, cuda:N", device);
    return NULL;
  }
  g_autofree char *why = NULL;
  const LlBackend *be = open_gpu(index, &why);
  if (!be)
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED,
                "device \"%s\": %s; use --device cpu (or auto)", device, why);
  return be;
}

const LlBackend *ll_device_backend(const char *device, GError **error)
{
  return ll_device_backend_full(device, NULL, error);
}

gboolean ll_device_check(const LlBackend *be, GError **error)
{
  char msg[640];
  if (!be->take_error || !be->take_error(msg, sizeof msg))
    return TRUE;
  g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNSUPPORTED, "%s backend (%s) failed: %s",
              be->name, be->device_name, msg);
  return FALSE;
}

void ll_thread_yield_to_ui(void)
{
#ifdef __linux__
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int now = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && now < LL_BACKGROUND_NICE)
    setpriority(PRIO_PROCESS, tid, LL_BACKGROUND_NICE);
#endif
}
