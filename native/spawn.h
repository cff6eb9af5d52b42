// The request the C# runtime passes to moat_spawn(), and the stage protocol's frame tags. The
// structs are mirrored by Moat.Interop.SpawnRequest and MountSourceRequest, the constants and
// environment variable names by Moat.Interop and Moat.Runtime.Protocol (C# has no mirror of
// MOAT_SPAWN_EXIT_FAILED: it learns of a failed helper from its error frame);
// tests/Moat.Tests.Unit/Interop/SpawnLayoutTests.cs compiles this header and checks each layout and
// value against the C# one.
#ifndef MOAT_SPAWN_H
#define MOAT_SPAWN_H

#include <stdint.h>

#define MOAT_MAX_JOINS 8

// Frame tags on the sync socket (MOAT_FRAME_READY_FOR_SETUP, ...), from their one definition.
enum moat_frame {
#define MOAT_FRAME(name, tag, doc) MOAT_FRAME_##name = tag,
#include "stage-frames.def"
#undef MOAT_FRAME
};

// The exit status of a helper that failed (after it sent MOAT_FRAME_ERROR when it could).
#define MOAT_SPAWN_EXIT_FAILED 121

// Environment variable naming the init's end of the sync socket.
#define MOAT_SYNC_FD_VARIABLE "_MOAT_SYNC_FD"

// Environment variable naming a mount namespace descriptor that the re-executed binary joins in a
// constructor, before the .NET runtime starts (see moat_enter_container in spawn.c).
#define MOAT_MNTNS_FD_VARIABLE "_MOAT_MNTNS_FD"

// Environment variable telling that constructor to fork once more, into the pid namespace the
// helper joined or unshared (setns/unshare of a pid namespace applies to children only). The fork
// comes after the exec so that no process in the container's pid namespace ever runs the moat
// binary as the host has it (CVE-2019-5736): the child is a copy of the protected view.
#define MOAT_FORK_VARIABLE "_MOAT_FORK_INTO_PID_NS"

struct moat_spawn_request {
    uint64_t clone_flags;   // namespaces created by clone3 itself (no namespace is joined)
    uint64_t unshare_flags; // namespaces created after the joins (some namespace is joined)
    uint64_t late_unshare_flags; // namespaces created after the id maps and cgroup placement
    int32_t join_fds[MOAT_MAX_JOINS];
    int32_t join_types[MOAT_MAX_JOINS];
    const char *join_names[MOAT_MAX_JOINS]; // "setns /path": the step named in an error
    int32_t join_count;
    int32_t sync_fd;     // child's end of the runtime's socketpair
    int32_t runtime_fd;  // the runtime's end: closed in the child, so the runtime's death reads as EOF
    int32_t exec_fd;     // the moat binary to exec: its file on a detached read-only overlay, or a sealed memfd copy
    int32_t cgroup_fd;   // cgroup v2 directory for CLONE_INTO_CGROUP, or -1
    int32_t become_root; // setresuid/gid(0) after the maps are written
    int32_t new_time;    // unshare a time namespace before exec
    int32_t send_mount_namespace; // send the new mount namespace to the runtime ('N') before exec
    int32_t keep_count;
    const int32_t *keep_fds; // descriptors that must survive the exec
    const char *timens_offsets; // "monotonic S N\nboottime S N\n", or NULL
    const char *const *argv;
    const char *const *envp;
};

// Returns the child's pid (and its pidfd in *pidfd_out), or -errno.
int moat_spawn(const struct moat_spawn_request *req, int *pidfd_out);

// A bind mount source the runtime opens inside the container's mount namespace (see
// moat_open_mount_sources). Mirrored by Moat.Interop.MountSourceRequest.
struct moat_mount_source {
    const char *path;   // absolute path, resolved in the mount namespace
    int32_t clone_tree; // 1: a detached copy (open_tree OPEN_TREE_CLONE), 0: an O_PATH descriptor
    int32_t recursive;  // with clone_tree: the mounts below path too (AT_RECURSIVE)
    int32_t fd;         // out: the descriptor (close-on-exec), or -1
    int32_t error;      // out: errno when fd is -1
};

// Opens each source with the caller's credentials from inside the mount namespace mntns_fd, in a
// short-lived child that shares the caller's memory and descriptor table. Returns 0 (each source's
// own result in fd/error), or -errno when the child could not start or join the namespace.
int moat_open_mount_sources(int mntns_fd, struct moat_mount_source *sources, int32_t count);

// Starts a process in a new user namespace that does nothing until killed; returns its pid
// (and pidfd), or -errno. The runtime writes its id maps to make an idmapped mount's namespace.
int moat_spawn_userns_holder(int *pidfd_out);

#endif
