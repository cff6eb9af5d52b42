using Microsoft.Win32.SafeHandles;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Turns linux.seccomp into a classic BPF program with libseccomp, without loading anything: it
/// builds a libseccomp context, exports the program and reads it back. It has no effect on the
/// calling process, so <c>create</c> runs it before anything exists on the host, and every
/// mistake in the profile is reported with the field it is in. Behaviour follows runc: unknown
/// syscall names are skipped, rules whose action equals the default are skipped, conditions
/// that share an argument become separate rules, and a -ENOSYS prologue answers syscalls newer
/// than the profile (<see cref="EnosysStub"/>).
/// </summary>
public static class SeccompCompiler
{
    const string Path = "linux.seccomp";
    const int MaxArguments = 6;
    const uint Eperm = 1, MaxErrno = 4095;

    /// <summary>
    /// A listener at listenerPath gets the descriptor with SCM_RIGHTS, i.e. sendmsg, so a profile that
    /// notifies sendmsg would wait forever for it; a tier's supervisor takes the descriptor with
    /// pidfd_getfd instead (<paramref name="lent"/>: SeccompListener.LendNotifyFd) and may notify it.
    /// </summary>
    public static void CheckHandover(LinuxSeccomp seccomp, bool lent)
    {
        if (lent || seccomp.Syscalls is null)
            return;
        for (var i = 0; i < seccomp.Syscalls.Count; i++)
            if (seccomp.Syscalls[i] is { Action: SeccompNames.ActNotify, Names: { } names } && names.Contains("sendmsg"))
                throw new RuntimeException($"{Path}.syscalls[{i}].action: SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall");
    }

    /// <summary>Compiles the profile; throws <see cref="RuntimeException"/> naming the field at fault.</summary>
    public static CompiledSeccompFilter Compile(LinuxSeccomp seccomp)
    {
        ArgumentNullException.ThrowIfNull(seccomp);
        var flags = KernelFlags(seccomp);
        using var built = Build(seccomp);
        var program = Export(built.Context, Libseccomp.seccomp_export_bpf, "seccomp_export_bpf");
        if (program.Length == 0 || program.Length % BpfInstruction.Size != 0)
            throw new RuntimeException($"{Path}: libseccomp exported a program of {program.Length} bytes");

        var stub = EnosysStub.AppliesTo(built.DefaultAction) ? EnosysStub.Build(built.Limits) : [];
        if (stub.Length > 0)
            program = [.. BpfInstruction.Encode(stub), .. program];

        var count = program.Length / BpfInstruction.Size;
        if (count > Libc.BPF_MAXINSNS)
            throw new RuntimeException($"{Path}: the profile compiles to {count} BPF instructions, more than the kernel's limit of {Libc.BPF_MAXINSNS}");

        return new CompiledSeccompFilter
        {
            Program = program,
            Flags = flags,
            EnosysStubLength = stub.Length,
            ArchitectureTokens = built.Architectures,
            SkippedSyscalls = built.Skipped,
            ListenerPath = string.IsNullOrEmpty(seccomp.ListenerPath) ? null : seccomp.ListenerPath,
            ListenerMetadata = string.IsNullOrEmpty(seccomp.ListenerMetadata) ? null : seccomp.ListenerMetadata,
        };
    }

    /// <summary>libseccomp's pseudo filter code for the profile (without the -ENOSYS prologue), for reading.</summary>
    public static string ExportPseudoCode(LinuxSeccomp seccomp)
    {
        ArgumentNullException.ThrowIfNull(seccomp);
        using var built = Build(seccomp);
        return System.Text.Encoding.UTF8.GetString(Export(built.Context, Libseccomp.seccomp_export_pfc, "seccomp_export_pfc"));
    }

    /// <summary>The libseccomp version on this host ("2.5.4"), or throws the "not available" error.</summary>
    public static string LibseccompVersion
    {
        get
        {
            RequireLibseccomp();
            return Libseccomp.Version;
        }
    }

    /// <summary>The SECCOMP_FILTER_FLAG_* value of one linux.seccomp.flags name, or null if the name is unknown.</summary>
    public static uint? FlagValue(string name) => name switch
    {
        "SECCOMP_FILTER_FLAG_TSYNC" => Libc.SECCOMP_FILTER_FLAG_TSYNC,
        "SECCOMP_FILTER_FLAG_LOG" => Libc.SECCOMP_FILTER_FLAG_LOG,
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => Libc.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
        _ => null,
    };

    /// <summary>The SECCOMP_RET_* value of an action (ERRNO and TRACE default to EPERM, as in runc).</summary>
    public static uint? ActionValue(string action, uint? errnoRet) => action switch
    {
        SeccompNames.ActKill or SeccompNames.ActKillThread => Libseccomp.SCMP_ACT_KILL_THREAD,
        SeccompNames.ActKillProcess => Libseccomp.SCMP_ACT_KILL_PROCESS,
        SeccompNames.ActTrap => Libseccomp.SCMP_ACT_TRAP,
        SeccompNames.ActErrno => Libseccomp.SCMP_ACT_ERRNO | ((errnoRet ?? Eperm) & 0xffff),
        SeccompNames.ActTrace => Libseccomp.SCMP_ACT_TRACE | ((errnoRet ?? Eperm) & 0xffff),
        SeccompNames.ActAllow => Libseccomp.SCMP_ACT_ALLOW,
        SeccompNames.ActLog => Libseccomp.SCMP_ACT_LOG,
        SeccompNames.ActNotify => Libseccomp.SCMP_ACT_NOTIFY,
        _ => null,
    };

    static int OperatorValue(string op) => op switch
    {
        "SCMP_CMP_NE" => Libseccomp.SCMP_CMP_NE,
        "SCMP_CMP_LT" => Libseccomp.SCMP_CMP_LT,
        "SCMP_CMP_LE" => Libseccomp.SCMP_CMP_LE,
        "SCMP_CMP_EQ" => Libseccomp.SCMP_CMP_EQ,
        "SCMP_CMP_GE" => Libseccomp.SCMP_CMP_GE,
        "SCMP_CMP_GT" => Libseccomp.SCMP_CMP_GT,
        "SCMP_CMP_MASKED_EQ" => Libseccomp.SCMP_CMP_MASKED_EQ,
        _ => 0,
    };

    static void RequireLibseccomp()
    {
        if (!Libseccomp.IsAvailable)
            throw new RuntimeException($"linux.seccomp is set, but {Libseccomp.LibraryName} is not available on this host (install libseccomp2)");
    }

    /// <summary>linux.seccomp.flags plus what the rules imply, checked against the kernel.</summary>
    static uint KernelFlags(LinuxSeccomp seccomp)
    {
        uint flags = 0;
        var flagPaths = new Dictionary<uint, string>();
        for (var i = 0; i < (seccomp.Flags?.Count ?? 0); i++)
        {
            var name = seccomp.Flags![i];
            var value = FlagValue(name) ?? throw new RuntimeException($"{Path}.flags[{i}]: unknown flag \"{name}\"");
            flags |= value;
            flagPaths.TryAdd(value, $"{Path}.flags[{i}]");
        }

        string? notifyPath = null;
        for (var i = 0; i < (seccomp.Syscalls?.Count ?? 0) && notifyPath is null; i++)
        {
            if (seccomp.Syscalls![i].Action == SeccompNames.ActNotify)
                notifyPath = $"{Path}.syscalls[{i}].action";
        }
        if (seccomp.DefaultAction == SeccompNames.ActNotify)
            notifyPath ??= $"{Path}.defaultAction";
        if (notifyPath is not null)
            flags |= Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER;

        // The kernel refuses WAIT_KILLABLE_RECV without a listener, and TSYNC with a listener unless
        // TSYNC_ESRCH says how a failed thread sync is reported (libseccomp does the same).
        if ((flags & Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER) == 0)
            flags &= ~Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        if ((flags & Libc.SECCOMP_FILTER_FLAG_TSYNC) != 0 && (flags & Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0)
            flags |= Libc.SECCOMP_FILTER_FLAG_TSYNC_ESRCH;

        if (flags == 0 || Libc.SeccompFlagsSupported(flags))
            return flags;

        // Name the first flag the kernel does not know (probed alone, with a listener where it needs one).
        foreach (var (bit, fieldPath) in flagPaths.OrderBy(p => p.Key))
        {
            if ((flags & bit) == 0)
                continue;
            var probe = bit == Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? bit | Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER : bit;
            if (!Libc.SeccompFlagsSupported(probe))
                throw new RuntimeException($"{fieldPath}: this kernel does not support {FlagName(bit)}");
        }
        if (notifyPath is not null && !Libc.SeccompFlagsSupported(Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER))
            throw new RuntimeException($"{notifyPath}: SCMP_ACT_NOTIFY needs seccomp user notification, which this kernel does not support");
        throw new RuntimeException($"{Path}.flags: this kernel refuses the combination {FormatFlags(flags)}");
    }

    static string FlagName(uint bit) => bit switch
    {
        Libc.SECCOMP_FILTER_FLAG_TSYNC => "SECCOMP_FILTER_FLAG_TSYNC",
        Libc.SECCOMP_FILTER_FLAG_LOG => "SECCOMP_FILTER_FLAG_LOG",
        Libc.SECCOMP_FILTER_FLAG_SPEC_ALLOW => "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER => "SECCOMP_FILTER_FLAG_NEW_LISTENER",
        Libc.SECCOMP_FILTER_FLAG_TSYNC_ESRCH => "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
        Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV => "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        _ => $"0x{bit:x}",
    };

    /// <summary>"SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_LOG" for a flag value.</summary>
    public static string FormatFlags(uint flags)
    {
        if (flags == 0)
            return "0";
        var names = new List<string>();
        for (var bit = 1u; bit != 0 && bit <= flags; bit <<= 1)
        {
            if ((flags & bit) != 0)
                names.Add(FlagName(bit));
        }
        return string.Join('|', names);
    }

    sealed class BuiltContext(SeccompContext context) : IDisposable
    {
        public SeccompContext Context { get; } = context;
        public uint DefaultAction { get; init; }
        public List<uint> Architectures { get; } = [];
        public List<string> Skipped { get; } = [];
        public List<EnosysStub.ArchLimit> Limits { get; } = [];

        public void Dispose() => Context.Dispose();
    }

    static BuiltContext Build(LinuxSeccomp seccomp)
    {
        var defaultAction = DefaultAction(seccomp);
        var rules = CheckRules(seccomp, defaultAction);
        var requested = CheckArchitectures(seccomp);
        RequireLibseccomp();

        var context = Libseccomp.seccomp_init(defaultAction);
        if (context.IsInvalid)
        {
            context.Dispose();
            throw new RuntimeException($"{Path}.defaultAction: libseccomp {Libseccomp.Version} refused {seccomp.DefaultAction} (this kernel may not support the action)");
        }
        var built = new BuiltContext(context) { DefaultAction = defaultAction };
        try
        {
            // Report libseccomp's own errno values rather than its collapsed ones (libseccomp >= 2.5).
            Libseccomp.seccomp_attr_set(context, Libseccomp.SCMP_FLTATR_API_SYSRAWRC, 1);
            // The runtime sets no_new_privs itself (or not, as process.noNewPrivileges says).
            Check(Libseccomp.seccomp_attr_set(context, Libseccomp.SCMP_FLTATR_CTL_NNP, 0), Path, "setting SCMP_FLTATR_CTL_NNP");

            built.Architectures.Add(Libseccomp.seccomp_arch_native());
            foreach (var (token, name, fieldPath) in requested)
            {
                if (built.Architectures.Contains(token))
                    continue;
                var added = Libseccomp.seccomp_arch_add(context, token);
                // One filter holds only architectures of the native byte order.
                if (added == -33 /* EDOM */)
                    throw new RuntimeException($"{fieldPath}: {name} cannot be filtered on this host (its byte order differs from the native architecture's)");
                Check(added, fieldPath, "adding the architecture");
                built.Architectures.Add(token);
            }

            var ruleCount = AddRules(built, rules);
            // A binary tree of syscalls for long profiles, as runc does; libseccomp <= 2.5.4 gets it
            // wrong with no rules at all, hence the count of rules actually added.
            if (ruleCount > 32)
                Libseccomp.seccomp_attr_set(context, Libseccomp.SCMP_FLTATR_CTL_OPTIMIZE, 2);

            ComputeLimits(built, seccomp);
            return built;
        }
        catch
        {
            built.Dispose();
            throw;
        }
    }

    static uint DefaultAction(LinuxSeccomp seccomp)
    {
        if (string.IsNullOrEmpty(seccomp.DefaultAction))
            throw new RuntimeException($"{Path}.defaultAction: must be set");
        // Notifying on every syscall would also trap the calls that hand the listener over: a deadlock.
        if (seccomp.DefaultAction == SeccompNames.ActNotify)
            throw new RuntimeException($"{Path}.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        var value = ActionValue(seccomp.DefaultAction, seccomp.DefaultErrnoRet)
            ?? throw new RuntimeException($"{Path}.defaultAction: unknown action \"{seccomp.DefaultAction}\"");
        CheckErrno(seccomp.DefaultErrnoRet, seccomp.DefaultAction, $"{Path}.defaultErrnoRet");
        return value;
    }

    static void CheckErrno(uint? errnoRet, string action, string fieldPath)
    {
        if (errnoRet is not { } errno)
            return;
        if (!SeccompNames.ActionTakesErrno(action))
            throw new RuntimeException($"{fieldPath}: cannot be used with {action}");
        if (errno > MaxErrno)
            throw new RuntimeException($"{fieldPath}: {errno} is not an errno value (0..{MaxErrno})");
    }

    static List<(uint Token, string Name, string FieldPath)> CheckArchitectures(LinuxSeccomp seccomp)
    {
        var result = new List<(uint, string, string)>();
        for (var i = 0; i < (seccomp.Architectures?.Count ?? 0); i++)
        {
            var name = seccomp.Architectures![i];
            var fieldPath = $"{Path}.architectures[{i}]";
            if (!SeccompNames.IsArchitecture(name))
                throw new RuntimeException($"{fieldPath}: unknown architecture \"{name}\"");
            RequireLibseccomp();
            // libseccomp names its architectures as the SCMP_ARCH_ constants, lower-cased, without the prefix.
            var token = Libseccomp.seccomp_arch_resolve_name(name["SCMP_ARCH_".Length..].ToLowerInvariant());
            if (token == 0)
                throw new RuntimeException($"{fieldPath}: {name} is not supported by this host's libseccomp {Libseccomp.Version}");
            result.Add((token, name, fieldPath));
        }
        return result;
    }

    sealed record Rule(int Index, LinuxSyscall Syscall, uint Action, Libseccomp.ArgCmp[] Conditions, bool SplitConditions);

    static List<Rule> CheckRules(LinuxSeccomp seccomp, uint defaultAction)
    {
        var rules = new List<Rule>();
        for (var i = 0; i < (seccomp.Syscalls?.Count ?? 0); i++)
        {
            var syscall = seccomp.Syscalls![i];
            var rulePath = $"{Path}.syscalls[{i}]";
            if (syscall is null)
                throw new RuntimeException($"{rulePath}: must not be null");
            if (syscall.Names is not { Count: > 0 })
                throw new RuntimeException($"{rulePath}.names: must contain at least one syscall name");
            for (var n = 0; n < syscall.Names.Count; n++)
            {
                if (string.IsNullOrEmpty(syscall.Names[n]))
                    throw new RuntimeException($"{rulePath}.names[{n}]: must not be empty");
            }
            if (string.IsNullOrEmpty(syscall.Action))
                throw new RuntimeException($"{rulePath}.action: must be set");
            var action = ActionValue(syscall.Action, syscall.ErrnoRet)
                ?? throw new RuntimeException($"{rulePath}.action: unknown action \"{syscall.Action}\"");
            CheckErrno(syscall.ErrnoRet, syscall.Action, $"{rulePath}.errnoRet");
            if (syscall.Action == SeccompNames.ActNotify)
            {
                // After loading the filter the init still writes (errors, the handover): notifying
                // on write would wait for a supervisor that cannot have the descriptor yet. (sendmsg:
                // CheckHandover, which knows how the descriptor travels.)
                foreach (var name in syscall.Names)
                {
                    if (name is "write")
                        throw new RuntimeException($"{rulePath}.action: SCMP_ACT_NOTIFY cannot be used for the {name} syscall");
                }
            }

            var args = syscall.Args ?? [];
            var conditions = new Libseccomp.ArgCmp[args.Count];
            var perArgument = new int[MaxArguments];
            var split = false;
            for (var a = 0; a < args.Count; a++)
            {
                var arg = args[a] ?? throw new RuntimeException($"{rulePath}.args[{a}]: must not be null");
                if (arg.Index >= MaxArguments)
                    throw new RuntimeException($"{rulePath}.args[{a}].index: {arg.Index} is outside the range 0..{MaxArguments - 1}");
                var op = OperatorValue(arg.Op);
                if (op == 0)
                    throw new RuntimeException($"{rulePath}.args[{a}].op: unknown operator \"{arg.Op}\"");
                conditions[a] = new Libseccomp.ArgCmp { Arg = arg.Index, Op = op, DatumA = arg.Value, DatumB = arg.ValueTwo };
                split |= ++perArgument[arg.Index] > 1;
            }
            // runc skips a rule whose action is the default one (libseccomp refuses it with EACCES).
            if (action == defaultAction)
                continue;
            rules.Add(new Rule(i, syscall, action, conditions, split));
        }
        return rules;
    }

    static unsafe int AddRules(BuiltContext built, List<Rule> rules)
    {
        var added = 0;
        foreach (var rule in rules)
        {
            var rulePath = $"{Path}.syscalls[{rule.Index}]";
            foreach (var name in rule.Syscall.Names)
            {
                var nr = Libseccomp.seccomp_syscall_resolve_name(name);
                if (nr == Libseccomp.__NR_SCMP_ERROR)
                {
                    // Not known to this libseccomp (a newer syscall, or a typo): runc ignores it too.
                    if (!built.Skipped.Contains(name))
                        built.Skipped.Add(name);
                    continue;
                }
                fixed (Libseccomp.ArgCmp* conditions = rule.Conditions)
                {
                    if (rule.Conditions.Length == 0 || !rule.SplitConditions)
                    {
                        Check(Libseccomp.seccomp_rule_add_array(built.Context, rule.Action, nr, (uint)rule.Conditions.Length, conditions),
                            rulePath, $"adding the rule for \"{name}\"");
                        added++;
                    }
                    else
                    {
                        // libseccomp refuses two conditions on one argument in a rule; like runc, each
                        // condition then becomes a rule of its own (so they match as alternatives).
                        for (var c = 0; c < rule.Conditions.Length; c++)
                        {
                            Check(Libseccomp.seccomp_rule_add_array(built.Context, rule.Action, nr, 1, conditions + c),
                                rulePath, $"adding the rule for \"{name}\" (args[{c}])");
                            added++;
                        }
                    }
                }
            }
        }
        return added;
    }

    /// <summary>The highest syscall number the profile names, for each architecture in the filter.</summary>
    static void ComputeLimits(BuiltContext built, LinuxSeccomp seccomp)
    {
        // Every name counts, also those of rules left out because their action is the default one.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in seccomp.Syscalls ?? [])
            names.UnionWith(rule.Names);

        var perAudit = new Dictionary<uint, (uint? Max, uint? MaxX32)>();
        foreach (var token in built.Architectures)
        {
            uint? max = null;
            foreach (var name in names)
            {
                var nr = Libseccomp.seccomp_syscall_resolve_name_arch(token, name);
                // Negative numbers are libseccomp's pseudo syscalls (multiplexed calls such as socketcall on x86).
                if (nr >= 0 && (max is null || (uint)nr > max))
                    max = (uint)nr;
            }
            if (max is null)
                continue;
            var audit = EnosysStub.AuditArchOf(token);
            perAudit.TryGetValue(audit, out var entry);
            perAudit[audit] = token == EnosysStub.ScmpArchX32 ? entry with { MaxX32 = max } : entry with { Max = max };
        }
        foreach (var token in built.Architectures)
        {
            var audit = EnosysStub.AuditArchOf(token);
            if (perAudit.Remove(audit, out var entry))
                built.Limits.Add(new EnosysStub.ArchLimit(audit, entry.Max, entry.MaxX32));
        }
    }

    static void Check(int result, string fieldPath, string what)
    {
        if (result < 0)
            throw new RuntimeException($"{fieldPath}: libseccomp {Libseccomp.Version} failed {what}: {Errors.Describe(-result)}");
    }

    delegate int Exporter(SeccompContext context, int fd);

    /// <summary>Runs a libseccomp export into a memfd and reads the bytes back.</summary>
    static byte[] Export(SeccompContext context, Exporter export, string what)
    {
        var fd = Libc.memfd_create("moat-seccomp", Libc.MFD_CLOEXEC);
        if (fd < 0)
            throw new RuntimeException($"{Path}: memfd_create for {what}: {Errors.Describe(Errors.LastErrno)}");
        using var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        Check(export(context, fd), Path, what);
        var length = RandomAccess.GetLength(handle);
        var bytes = new byte[length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n == 0)
                break;
            read += n;
        }
        return read == bytes.Length ? bytes : bytes[..read];
    }
}
