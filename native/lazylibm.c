// The six libm functions the NativeAOT runtime imports (Math.Ceiling, Cos, Log, Pow, Sin and
// modf), resolved from libm.so.6 on first call instead of at start-up.
//
// Why: linking libm makes ld.so load it into every moat process and run the resolvers of all its
// IFUNCs, which maps ~320 KB of it (a twentieth of a `moat state`'s memory) although no hot path
// does floating-point math. With these definitions in the binary, the linker's --as-needed drops
// libm from the dependencies; the first call (if any) opens it and every call after that goes
// straight to the real function, so results are libm's own.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static void *libm_symbol(const char *name)
{
    static _Atomic(void *) handle;
    void *h = atomic_load_explicit(&handle, memory_order_acquire);
    if (h == NULL) {
        h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            fprintf(stderr, "moat: cannot load libm.so.6: %s\n", dlerror());
            abort();
        }
        atomic_store_explicit(&handle, h, memory_order_release);
    }
    void *symbol = dlsym(h, name);
    if (symbol == NULL) {
        fprintf(stderr, "moat: libm.so.6 has no %s: %s\n", name, dlerror());
        abort();
    }
    return symbol;
}

// One cached pointer per function; a race only looks the symbol up twice.
#define LAZY(ret, name, params, args)                                                   \
    ret name params                                                                     \
    {                                                                                   \
        static _Atomic(ret(*) params) real;                                             \
        ret(*fn) params = atomic_load_explicit(&real, memory_order_acquire);            \
        if (fn == NULL) {                                                               \
            fn = (ret(*) params)libm_symbol(#name);                                     \
            atomic_store_explicit(&real, fn, memory_order_release);                     \
        }                                                                               \
        return fn args;                                                                 \
    }

LAZY(double, ceil, (double x), (x))
LAZY(double, cos, (double x), (x))
LAZY(double, log, (double x), (x))
LAZY(double, pow, (double x, double y), (x, y))
LAZY(double, sin, (double x), (x))
LAZY(double, modf, (double x, double *integral), (x, integral))
