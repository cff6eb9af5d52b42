using System.Globalization;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

public sealed partial class ResourceWriter
{
    /// <summary>
    /// One walk over the resources. Without <c>write</c> it checks values, controllers and files
    /// (reading only) and collects the v2 controllers to enable; with it, it writes. Both walks run
    /// the same code, so what Validate accepts is exactly what Apply writes.
    /// </summary>
    sealed partial class Pass(ResourceWriter owner, LinuxResources r, bool update, bool write, bool warn)
    {
        /// <summary>v2 controllers the writes need, each with the first field that needs it.</summary>
        public readonly Dictionary<string, string> V2Controllers = new(StringComparer.Ordinal);

        ContainerCgroup Cgroup => owner.cgroup;

        public void Run()
        {
            Devices();
            Cpuset();
            Memory();
            Cpu();
            Pids();
            BlockIo();
            Hugetlb();
            Network();
            Rdma();
            Unified();
        }

        CgroupController Need(string v1Name, string field)
        {
            var c = Cgroup.Controller(v1Name, out var missing)
                    ?? throw new RuntimeException($"linux.resources.{field} is set, but {missing}");
            if (c.IsV2)
                V2Controllers.TryAdd(c.Name, field);
            return c;
        }

        /// <summary>
        /// Whether the file is there (when writing), or may be (when checking: not certainly missing). Asked once per
        /// file and pass: the device rules alone ask it some twenty times of devices.allow, each a walk of stat calls.
        /// </summary>
        bool Has(CgroupController c, string file)
        {
            var key = (c.Directory, file);
            if (!known.TryGetValue(key, out var has))
                known[key] = has = write ? File.Exists(c.PathOf(file)) : !Probe(c, file).Missing;
            return has;
        }

        readonly Dictionary<(string Directory, string File), bool> known = [];

        RuntimeException MissingFile(CgroupController c, string field, string file)
        {
            var dir = write ? c.Directory : Probe(c, file).Directory;
            var hint = Hint(file);
            return new RuntimeException($"linux.resources.{field} is set, but {dir} has no {file}{(hint is null ? "" : $" ({hint})")}");
        }

        /// <summary>Checks (or writes) one value.</summary>
        void Set(CgroupController c, string field, string file, string value, Func<int, string>? detail = null)
        {
            if (!Has(c, file))
                throw MissingFile(c, field, file);
            if (write)
                owner.WriteValue(c, field, file, value, detail);
        }

        /// <summary>Writes one value, returning the errno instead of throwing (for writes retried in another order).</summary>
        int TrySet(CgroupController c, string field, string file, string value)
        {
            if (!Has(c, file))
                throw MissingFile(c, field, file);
            return write ? owner.TryWriteValue(c, file, value) : 0;
        }

        void Warn(string warning)
        {
            if (warn)
                owner.Warn(warning);
        }

        static RuntimeException Invalid(string message) => new($"linux.resources.{message}");

        static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string Str(ulong v) => v.ToString(CultureInfo.InvariantCulture);

        /// <summary>A limit in bytes: -1 (unlimited) or positive; 0 is "not set" as in runc.</summary>
        static long? Bytes(long? value, string field)
        {
            if (value is < -1)
                throw Invalid($"{field} ({value}) must be -1 (unlimited) or a number of bytes");
            return value is 0 ? null : value;
        }

        long? ReadLong(CgroupController c, string file)
        {
            var text = CgroupFile.TryRead(c.PathOf(file))?.Trim();
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
        }

        // ---- devices ----

        void Devices()
        {
            if (r.Devices is not { Count: > 0 } devices)
                return;
            if (update)
                throw Invalid("devices cannot be changed on a running container");
            var rules = devices.Select((d, i) => (Allow: d.Allow, Rule: DeviceRule(d, i))).ToList();
            var v1 = Cgroup.Host.IsPureV2 ? null : Cgroup.Controller("devices");
            if (v1 is null && Cgroup.Directories.FirstOrDefault(d => d.Hierarchy.IsV2).Directory is { } unified)
            {
                // cgroup v2 (or a hybrid host without a v1 devices hierarchy): an eBPF program.
                for (var i = 0; i < devices.Count; i++)
                {
                    if (devices[i].Major is > int.MaxValue || devices[i].Minor is > int.MaxValue)
                        throw Invalid($"devices[{i}]: major and minor must be at most {int.MaxValue}");
                }
                var program = DeviceProgram.Compile(DeviceProgram.Emulate([.. rules, .. DefaultAllowedDevices.Select(d => (true, d))]));
                if (write)
                    (owner.DeviceProgramAttacher ?? DeviceProgram.Attach)(unified, program);
                return;
            }
            var c = Need("devices", "devices");
            foreach (var (allow, rule) in rules)
                Set(c, "devices", allow ? "devices.allow" : "devices.deny", rule);
            foreach (var rule in DefaultAllowedDevices)
                Set(c, "devices", "devices.allow", rule);
        }

        // ---- pids ----

        void Pids()
        {
            if (r.Pids is not { } pids)
                return;
            var c = Need("pids", "pids.limit");
            Set(c, "pids.limit", "pids.max", pids.Limit > 0 ? Str(pids.Limit) : "max");
        }

        // ---- cpuset ----

        void Cpuset()
        {
            if (r.Cpu is not { } cpu)
                return;
            var cpus = string.IsNullOrEmpty(cpu.Cpus) ? null : cpu.Cpus;
            var mems = string.IsNullOrEmpty(cpu.Mems) ? null : cpu.Mems;
            if (cpus is not null)
                CheckList(cpus, "cpu.cpus");
            if (mems is not null)
                CheckList(mems, "cpu.mems");
            if (cpus is null && mems is null)
                return;
            var c = Need("cpuset", cpus is not null ? "cpu.cpus" : "cpu.mems");
            if (cpus is not null)
                Set(c, "cpu.cpus", "cpuset.cpus", cpus);
            if (mems is not null)
                Set(c, "cpu.mems", "cpuset.mems", mems);
        }

        /// <summary>A kernel list: comma-separated numbers and ranges, "0-3,7".</summary>
        static void CheckList(string list, string field)
        {
            foreach (var part in list.Split(','))
            {
                var range = part.Split('-');
                if (range.Length is 0 or > 2
                    || !range.All(n => n.Length > 0 && n.All(char.IsAsciiDigit) && uint.TryParse(n, CultureInfo.InvariantCulture, out _))
                    || range.Length == 2 && uint.Parse(range[0], CultureInfo.InvariantCulture) > uint.Parse(range[1], CultureInfo.InvariantCulture))
                    throw Invalid($"{field} \"{list}\" is not a list of numbers and ranges such as \"0-3,7\"");
            }
        }

        // ---- hugetlb ----

        void Hugetlb()
        {
            if (r.HugepageLimits is not { Count: > 0 } limits)
                return;
            for (var i = 0; i < limits.Count; i++)
                if (!IsPageSize(limits[i].PageSize))
                    throw Invalid($"hugepageLimits[{i}].pageSize \"{limits[i].PageSize}\" is not a size such as 64KB, 2MB or 1GB");
            var c = Need("hugetlb", "hugepageLimits");
            var suffix = c.IsV2 ? ".max" : ".limit_in_bytes";
            var reservations = true;
            for (var i = 0; i < limits.Count; i++)
            {
                var prefix = "hugetlb." + limits[i].PageSize;
                var value = Str(limits[i].Limit);
                Set(c, $"hugepageLimits[{i}]", prefix + suffix, value);
                // Reservation accounting (Linux 5.7): the spec prefers it, so both limits are set where it exists.
                if (write && reservations)
                {
                    if (File.Exists(c.PathOf(prefix + ".rsvd" + suffix)))
                        Set(c, $"hugepageLimits[{i}]", prefix + ".rsvd" + suffix, value);
                    else
                        reservations = false;
                }
            }
        }

        static bool IsPageSize(string size) =>
            size.Length >= 3 && size.EndsWith('B') && "KMGTP".Contains(size[^2])
            && size[..^2].All(char.IsAsciiDigit) && size[0] != '0';

        // ---- network (v1 only) ----

        void Network()
        {
            if (r.Network is not { } network)
                return;
            if (network.ClassId is { } classId)
            {
                var c = Need("net_cls", "network.classID");
                Set(c, "network.classID", "net_cls.classid", Str(classId));
            }
            if (network.Priorities is { Count: > 0 } priorities)
            {
                for (var i = 0; i < priorities.Count; i++)
                {
                    var name = priorities[i].Name;
                    if (name.Length is 0 or > 15 || name.Any(ch => char.IsWhiteSpace(ch) || ch is '/' or ':' or '\0'))
                        throw Invalid($"network.priorities[{i}].name \"{name}\" is not a network interface name");
                }
                var c = Need("net_prio", "network.priorities");
                for (var i = 0; i < priorities.Count; i++)
                    Set(c, $"network.priorities[{i}]", "net_prio.ifpriomap", $"{priorities[i].Name} {Str(priorities[i].Priority)}");
            }
        }

        // ---- rdma ----

        void Rdma()
        {
            if (r.Rdma is not { Count: > 0 } rdma)
                return;
            foreach (var (device, limit) in rdma)
            {
                if (device.Length == 0 || device.Any(ch => char.IsWhiteSpace(ch) || ch == '\0'))
                    throw Invalid($"rdma: \"{device}\" is not an RDMA device name");
                if (limit.HcaHandles is null && limit.HcaObjects is null)
                    throw Invalid($"rdma[\"{device}\"] must set hcaHandles or hcaObjects");
            }
            var c = Need("rdma", "rdma");
            foreach (var (device, limit) in rdma)
            {
                var line = device;
                if (limit.HcaHandles is { } handles)
                    line += " hca_handle=" + Str(handles);
                if (limit.HcaObjects is { } objects)
                    line += " hca_object=" + Str(objects);
                Set(c, $"rdma[\"{device}\"]", "rdma.max", line);
            }
        }

        // ---- unified (cgroup v2 files by name) ----

        void Unified()
        {
            if (r.Unified is not { Count: > 0 } unified)
                return;
            var (hierarchy, directory) = Cgroup.Directories.FirstOrDefault(d => d.Hierarchy.IsV2);
            if (hierarchy is null)
                throw Invalid("unified is set, but the host has no cgroup v2 hierarchy (its keys are cgroup v2 files)");
            var available = Cgroup.AvailableV2Controllers();
            var controllersFile = Path.Combine(hierarchy.MountPoint, "cgroup.controllers");
            var checkedKeys = new List<(string Key, string Field, CgroupController Controller)>();
            foreach (var key in unified.Keys)
            {
                var field = $"unified[\"{key}\"]";
                if (key.Length == 0 || key.Contains('/') || key.Contains("..", StringComparison.Ordinal) || key.Any(ch => char.IsWhiteSpace(ch) || ch == '\0'))
                    throw Invalid($"{field}: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")");
                var dot = key.IndexOf('.');
                if (dot <= 0 || dot == key.Length - 1)
                    throw Invalid($"{field}: a key must have the form CONTROLLER.PARAMETER, such as memory.high");
                var controller = key[..dot];
                if (controller != "cgroup")
                {
                    // On a hybrid host an unreadable cgroup.controllers means nothing is offered; on pure v2 the writes will tell.
                    if (available is null ? !Cgroup.Host.IsPureV2 : !available.Contains(controller))
                        throw Invalid($"{field} is set, but the {controller} controller is not available in {controllersFile}"
                                      + (Cgroup.Host.IsPureV2 ? "" : " (on a host with cgroup v1, only the controllers that no v1 hierarchy holds are in cgroup v2)"));
                    V2Controllers.TryAdd(controller, field);
                }
                checkedKeys.Add((key, field, new CgroupController(controller, directory, hierarchy)));
            }
            foreach (var (key, field, c) in checkedKeys)
            {
                var value = unified[key];
                // A multi-line value ("io.max" for two devices) is one request per line, as the kernel parses them.
                var lines = value.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                foreach (var line in lines.Length == 0 ? [value] : lines)
                    Set(c, field, key, line);
            }
        }
    }
}
