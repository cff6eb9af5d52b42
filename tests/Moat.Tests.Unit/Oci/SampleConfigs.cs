namespace Moat.Tests.Unit.Oci;

internal static class SampleConfigs
{
    /// <summary>
    /// A config.json touching every Linux field of runtime-spec 1.2. It avoids values the writer
    /// omits on purpose (false booleans, valueTwo 0, pid 0) so that parse + serialize must reproduce it exactly.
    /// </summary>
    public const string Full = """
    {
      "ociVersion": "1.2.0",
      "process": {
        "terminal": true,
        "consoleSize": { "height": 25, "width": 80 },
        "user": {
          "uid": 1,
          "gid": 1,
          "umask": 18,
          "additionalGids": [5, 6]
        },
        "args": ["/bin/sh", "-c", "echo hello"],
        "env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "TERM=xterm"
        ],
        "cwd": "/root",
        "capabilities": {
          "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "effective": ["CAP_AUDIT_WRITE", "CAP_KILL"],
          "inheritable": ["CAP_AUDIT_WRITE"],
          "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          "ambient": ["CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [
          { "type": "RLIMIT_CORE", "hard": 1024, "soft": 1024 },
          { "type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024 }
        ],
        "noNewPrivileges": true,
        "apparmorProfile": "acme_secure_profile",
        "oomScoreAdj": 100,
        "scheduler": {
          "policy": "SCHED_DEADLINE",
          "nice": -5,
          "flags": ["SCHED_FLAG_RESET_ON_FORK"],
          "runtime": 10000000,
          "deadline": 20000000,
          "period": 30000000
        },
        "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
        "ioPriority": { "class": "IOPRIO_CLASS_BE", "priority": 4 },
        "execCPUAffinity": { "initial": "7", "final": "0-3,7" }
      },
      "root": { "path": "rootfs", "readonly": true },
      "hostname": "slartibartfast",
      "domainname": "example.org",
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc" },
        {
          "destination": "/dev",
          "type": "tmpfs",
          "source": "tmpfs",
          "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
        },
        {
          "destination": "/data",
          "type": "bind",
          "source": "/volumes/data",
          "options": ["rbind", "rw"],
          "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
          "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }]
        }
      ],
      "hooks": {
        "prestart": [
          { "path": "/usr/bin/fix-mounts", "args": ["fix-mounts", "arg1", "arg2"], "env": ["key1=value1"] }
        ],
        "createRuntime": [{ "path": "/usr/bin/setup-network" }],
        "createContainer": [{ "path": "/usr/bin/mount-hook", "args": ["-mount", "arg1"], "timeout": 5 }],
        "startContainer": [{ "path": "/usr/bin/refresh-ldcache" }],
        "poststart": [{ "path": "/usr/bin/notify-start", "timeout": 5 }],
        "poststop": [{ "path": "/usr/sbin/cleanup.sh", "args": ["cleanup.sh", "-f"] }]
      },
      "annotations": {
        "com.example.key1": "value1",
        "com.example.key2": "value2"
      },
      "linux": {
        "namespaces": [
          { "type": "pid" },
          { "type": "network", "path": "/var/run/netns/blue" },
          { "type": "ipc" },
          { "type": "uts" },
          { "type": "mount" },
          { "type": "user" },
          { "type": "cgroup" },
          { "type": "time" }
        ],
        "uidMappings": [{ "containerID": 0, "hostID": 1000, "size": 32000 }],
        "gidMappings": [{ "containerID": 0, "hostID": 1000, "size": 32000 }],
        "timeOffsets": {
          "monotonic": { "secs": -86400, "nanosecs": 500 },
          "boottime": { "secs": 3600, "nanosecs": 0 }
        },
        "devices": [
          { "type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 },
          { "type": "b", "path": "/dev/sda", "major": 8, "minor": 0, "fileMode": 432, "uid": 0, "gid": 0 },
          { "type": "p", "path": "/dev/myfifo" }
        ],
        "cgroupsPath": "/myRuntime/myContainer",
        "resources": {
          "devices": [
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw" },
            { "allow": true, "type": "b", "major": 8, "minor": 0, "access": "r" }
          ],
          "memory": {
            "limit": -1,
            "reservation": 268435456,
            "swap": 1073741824,
            "kernel": 67108864,
            "kernelTCP": 16777216,
            "swappiness": 60,
            "disableOOMKiller": true,
            "useHierarchy": true,
            "checkBeforeUpdate": true
          },
          "cpu": {
            "shares": 1024,
            "quota": 1000000,
            "burst": 500000,
            "period": 500000,
            "realtimeRuntime": 950000,
            "realtimePeriod": 1000000,
            "cpus": "2-3",
            "mems": "0-7",
            "idle": 1
          },
          "pids": { "limit": 32771 },
          "blockIO": {
            "weight": 10,
            "leafWeight": 10,
            "weightDevice": [
              { "major": 8, "minor": 0, "weight": 500, "leafWeight": 300 },
              { "major": 8, "minor": 16, "weight": 500 }
            ],
            "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 600 }],
            "throttleWriteBpsDevice": [{ "major": 8, "minor": 0, "rate": 700 }],
            "throttleReadIOPSDevice": [{ "major": 8, "minor": 16, "rate": 300 }],
            "throttleWriteIOPSDevice": [{ "major": 8, "minor": 16, "rate": 400 }]
          },
          "hugepageLimits": [
            { "pageSize": "2MB", "limit": 209715200 },
            { "pageSize": "64KB", "limit": 1000000 }
          ],
          "network": {
            "classID": 1048577,
            "priorities": [
              { "name": "eth0", "priority": 500 },
              { "name": "eth1", "priority": 1000 }
            ]
          },
          "rdma": {
            "mlx5_1": { "hcaHandles": 3, "hcaObjects": 10000 },
            "mlx4_0": { "hcaObjects": 1000 }
          },
          "unified": {
            "io.max": "259:0 rbps=2097152 wiops=120",
            "memory.high": "1073741824"
          }
        },
        "intelRdt": {
          "closID": "guaranteed_group",
          "l3CacheSchema": "L3:0=7f0;1=1f",
          "memBwSchema": "MB:0=20;1=70",
          "enableCMT": true,
          "enableMBM": true
        },
        "sysctl": {
          "net.ipv4.ip_forward": "1",
          "net.core.somaxconn": "256",
          "kernel.shmmax": "68719476736"
        },
        "seccomp": {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
          "listenerPath": "/run/seccomp-agent.socket",
          "listenerMetadata": "metadata for the agent",
          "syscalls": [
            { "names": ["getcwd", "chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 },
            { "names": ["mkdir"], "action": "SCMP_ACT_NOTIFY" },
            {
              "names": ["personality"],
              "action": "SCMP_ACT_ALLOW",
              "args": [
                { "index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ" },
                { "index": 1, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ" }
              ]
            }
          ]
        },
        "rootfsPropagation": "rslave",
        "maskedPaths": ["/proc/kcore", "/proc/keys"],
        "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811",
        "personality": { "domain": "LINUX32" },
        "netDevices": {
          "eth2": { "name": "ctr0" },
          "ens4": {}
        }
      }
    }
    """;
}
