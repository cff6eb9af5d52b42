using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>How the moat binary is linked: what every process start pays for.</summary>
public sealed class BinaryTests
{
    /// <summary>libm is resolved lazily (native/lazylibm.c), so the loader maps only libc (and itself).</summary>
    [Fact]
    public void TheBinaryNeedsOnlyLibcAndTheLoader()
    {
        var dynamic = MoatCli.Exec("/usr/bin/readelf", ["-d", MoatCli.Binary]);
        Assert.Equal(0, dynamic.ExitCode);
        var needed = dynamic.Stdout.Split('\n').Where(l => l.Contains("(NEEDED)")).ToList();
        var names = needed.Select(l => l[(l.IndexOf('[') + 1)..l.IndexOf(']')]).ToHashSet();
        Assert.Contains("libc.so.6", names);
        Assert.Empty(names.Except(["libc.so.6", "ld-linux-x86-64.so.2"]));
    }

    /// <summary>The lazy libm functions give libm's own results, bit for bit, and load it only when called.</summary>
    [Fact]
    public void LazyLibmForwardsToTheRealFunctions()
    {
        var dir = Directory.CreateTempSubdirectory("moat-lazylibm-");
        try
        {
            var main = Path.Combine(dir.FullName, "main.c");
            File.WriteAllText(main, """
                #define _GNU_SOURCE
                #include <dlfcn.h>
                #include <math.h>
                #include <stdio.h>
                #include <string.h>
                typedef double (*f1)(double);
                static int same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
                int main(void) {
                    if (dlopen("libm.so.6", RTLD_NOLOAD | RTLD_LAZY) != NULL) { puts("libm loaded before any call"); return 1; }
                    volatile double xs[] = { 0.0, -0.0, 0.5, 1.0, 2.5, -3.75, 1e-300, 1e300, 12345.678, 3.141592653589793 };
                    int bad = 0;
                    double (*volatile lazy_pow)(double, double) = pow;
                    f1 volatile lazy[] = { ceil, cos, log, sin };
                    const char *names[] = { "ceil", "cos", "log", "sin" };
                    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
                        void *libm = dlopen("libm.so.6", RTLD_NOW);
                        for (int f = 0; f < 4; f++)
                            if (!same(lazy[f](xs[i]), ((f1)dlsym(libm, names[f]))(xs[i]))) { printf("%s(%g) differs\n", names[f], xs[i]); bad = 1; }
                        double (*real_pow)(double, double) = (double (*)(double, double))dlsym(libm, "pow");
                        if (!same(lazy_pow(xs[i], 1.5), real_pow(xs[i], 1.5))) { printf("pow(%g) differs\n", xs[i]); bad = 1; }
                        double (*real_modf)(double, double *) = (double (*)(double, double *))dlsym(libm, "modf");
                        double a, b;
                        if (!same(modf(xs[i], &a), real_modf(xs[i], &b)) || !same(a, b)) { printf("modf(%g) differs\n", xs[i]); bad = 1; }
                    }
                    if (!bad) puts("ok");
                    return bad;
                }
                """);
            var program = Path.Combine(dir.FullName, "lazylibm-test");
            var source = Path.Combine(MoatCli.RepositoryRoot, "native", "lazylibm.c");
            // No -lm: every libm call must resolve to the lazy definitions.
            var build = MoatCli.Exec("/usr/bin/cc", ["-O2", "-fno-builtin", "-o", program, main, source]);
            Assert.True(build.ExitCode == 0, build.Stderr);
            var run = MoatCli.Exec(program, []);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Assert.Equal("ok\n", run.Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
