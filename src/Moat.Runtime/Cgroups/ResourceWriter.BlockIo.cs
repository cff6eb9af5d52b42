using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

public sealed partial class ResourceWriter
{
    /// <summary>
    /// Why the kernel refuses a device's line in io.weight: the io cost controller (which owns
    /// io.weight) takes per-device weights only for a device it is enabled on, and it is off
    /// until someone writes that device's io.cost.qos in the root cgroup (seen on Linux 6.1).
    /// </summary>
    internal static string IoWeightDeviceDetail(int errno, long major, long minor) => errno == Errors.EOPNOTSUPP
        ? $" (a per-device weight needs the io cost controller enabled for {major}:{minor}: write \"{major}:{minor} enable=1\" to io.cost.qos in the root cgroup, or use the BFQ scheduler)"
        : "";

    sealed partial class Pass
    {
        /// <summary>The blkio weight range of the spec (and of CFQ); a 0 is "not set" as in runc.</summary>
        const ushort MinWeight = 10, MaxWeight = 1000;

        void BlockIo()
        {
            if (r.BlockIo is not { } io)
                return;
            CheckWeight(io.Weight, "blockIO.weight");
            CheckWeight(io.LeafWeight, "blockIO.leafWeight");
            var weightDevices = io.WeightDevice ?? [];
            for (var i = 0; i < weightDevices.Count; i++)
            {
                var d = weightDevices[i];
                CheckDevice(d.Major, d.Minor, $"blockIO.weightDevice[{i}]");
                if (d.Weight is null && d.LeafWeight is null)
                    throw Invalid($"blockIO.weightDevice[{i}] must set weight or leafWeight");
                CheckWeight(d.Weight, $"blockIO.weightDevice[{i}].weight");
                CheckWeight(d.LeafWeight, $"blockIO.weightDevice[{i}].leafWeight");
            }
            var throttles = new (string Field, string V1File, string V2Key, List<LinuxThrottleDevice> Devices)[]
            {
                ("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", io.ThrottleReadBpsDevice ?? []),
                ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", io.ThrottleWriteBpsDevice ?? []),
                ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", io.ThrottleReadIopsDevice ?? []),
                ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", io.ThrottleWriteIopsDevice ?? []),
            };
            foreach (var (field, _, _, devices) in throttles)
                for (var i = 0; i < devices.Count; i++)
                    CheckDevice(devices[i].Major, devices[i].Minor, $"blockIO.{field}[{i}]");

            var weight = io.Weight is 0 ? null : io.Weight;
            var leafWeight = io.LeafWeight is 0 ? null : io.LeafWeight;
            var deviceWeights = weightDevices.Where(d => d.Weight is > 0 || d.LeafWeight is > 0).ToList();
            var first = weight is not null ? "blockIO.weight" : leafWeight is not null ? "blockIO.leafWeight"
                : deviceWeights.Count > 0 ? "blockIO.weightDevice"
                : throttles.FirstOrDefault(t => t.Devices.Count > 0).Field is { } t ? "blockIO." + t : null;
            if (first is null)
                return;
            var c = Need("blkio", first);
            if (c.IsV2)
                BlockIoV2(c, weight, leafWeight, weightDevices, throttles.Select(t => (t.Field, t.V2Key, t.Devices)).ToArray());
            else
                BlockIoV1(c, weight, leafWeight, weightDevices, throttles.Select(t => (t.Field, t.V1File, t.Devices)).ToArray());
        }

        static void CheckWeight(ushort? weight, string field)
        {
            if (weight is > 0 and (< MinWeight or > MaxWeight))
                throw Invalid($"{field} ({weight}) must be between {MinWeight} and {MaxWeight}");
        }

        static void CheckDevice(long major, long minor, string field)
        {
            if (major < 0 || minor < 0)
                throw Invalid($"{field}: major and minor ({major}:{minor}) must not be negative");
        }

        void BlockIoV1(CgroupController c, ushort? weight, ushort? leafWeight, List<LinuxWeightDevice> weightDevices,
            (string Field, string File, List<LinuxThrottleDevice> Devices)[] throttles)
        {
            // CFQ (before Linux 5.0) has blkio.weight; BFQ has blkio.bfq.weight, in the same format.
            var cfq = Has(c, "blkio.weight");
            var weightFile = cfq || !Has(c, "blkio.bfq.weight") ? "blkio.weight" : "blkio.bfq.weight";
            var weightDeviceFile = weightFile + "_device";
            if (weight is { } w)
                Set(c, "blockIO.weight", weightFile, Str(w));
            if (leafWeight is { } lw)
                Set(c, "blockIO.leafWeight", "blkio.leaf_weight", Str(lw));
            for (var i = 0; i < weightDevices.Count; i++)
            {
                var d = weightDevices[i];
                if (d.Weight is { } dw and > 0)
                    Set(c, $"blockIO.weightDevice[{i}].weight", weightDeviceFile, $"{d.Major}:{d.Minor} {dw}");
                if (d.LeafWeight is { } dlw and > 0)
                    Set(c, $"blockIO.weightDevice[{i}].leafWeight", "blkio.leaf_weight_device", $"{d.Major}:{d.Minor} {dlw}");
            }
            // One request per device; a rate of 0 removes the device's limit.
            foreach (var (field, file, devices) in throttles)
                for (var i = 0; i < devices.Count; i++)
                    Set(c, $"blockIO.{field}[{i}]", file, $"{devices[i].Major}:{devices[i].Minor} {Str(devices[i].Rate)}");
        }

        void BlockIoV2(CgroupController c, ushort? weight, ushort? leafWeight, List<LinuxWeightDevice> weightDevices,
            (string Field, string Key, List<LinuxThrottleDevice> Devices)[] throttles)
        {
            if (leafWeight is not null)
                throw Invalid("blockIO.leafWeight is set, but cgroup v2 has no leaf weights (blkio.leaf_weight is cgroup v1 with CFQ only)");
            for (var i = 0; i < weightDevices.Count; i++)
                if (weightDevices[i].LeafWeight is > 0)
                    throw Invalid($"blockIO.weightDevice[{i}].leafWeight is set, but cgroup v2 has no leaf weights");

            // BFQ takes blkio-style weights (1..1000) in io.bfq.weight; otherwise io.weight (1..10000) gets the converted value.
            var bfq = Has(c, "io.bfq.weight");
            // io.bfq.weight takes per-device weights when it reads "default N" (Linux 5.4 and later); read before writing it.
            var bfqPerDevice = bfq && (!write || CgroupFile.TryRead(c.PathOf("io.bfq.weight"))?.TrimStart().StartsWith("default", StringComparison.Ordinal) == true);
            if (weight is { } w)
            {
                if (bfq)
                    Set(c, "blockIO.weight", "io.bfq.weight", Str(w));
                else
                    Set(c, "blockIO.weight", "io.weight", "default " + Str(BlkioWeightToIoWeight(w)));
            }
            for (var i = 0; i < weightDevices.Count; i++)
            {
                var d = weightDevices[i];
                if (d.Weight is not { } dw || dw == 0)
                    continue;
                if (bfqPerDevice)
                    Set(c, $"blockIO.weightDevice[{i}].weight", "io.bfq.weight", $"{d.Major}:{d.Minor} {dw}");
                else
                    Set(c, $"blockIO.weightDevice[{i}].weight", "io.weight", $"{d.Major}:{d.Minor} {BlkioWeightToIoWeight(dw)}",
                        errno => IoWeightDeviceDetail(errno, d.Major, d.Minor));
            }

            // io.max takes every limit of a device in one line; a rate of 0 (no limit, as on v1) is "max".
            var perDevice = new List<(long Major, long Minor, List<string> Limits, string Field)>();
            foreach (var (field, key, devices) in throttles)
            {
                for (var i = 0; i < devices.Count; i++)
                {
                    var d = devices[i];
                    var entry = perDevice.FindIndex(e => e.Major == d.Major && e.Minor == d.Minor);
                    if (entry < 0)
                    {
                        perDevice.Add((d.Major, d.Minor, [], $"blockIO.{field}[{i}]"));
                        entry = perDevice.Count - 1;
                    }
                    var limits = perDevice[entry].Limits;
                    limits.RemoveAll(l => l.StartsWith(key + "=", StringComparison.Ordinal));
                    limits.Add($"{key}={(d.Rate == 0 ? "max" : Str(d.Rate))}");
                }
            }
            foreach (var (major, minor, limits, field) in perDevice)
                Set(c, field, "io.max", $"{major}:{minor} {string.Join(' ', limits)}");
        }
    }
}
