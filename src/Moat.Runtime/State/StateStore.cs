using System.Text.Json;
using Moat.Interop;

namespace Moat.Runtime.State;

/// <summary>The runtime's state root (--root): one directory per container.</summary>
public sealed class StateStore(string root)
{
    /// <summary>
    /// The root without --root: /run/moat for root; for another user $XDG_RUNTIME_DIR/moat, as runc does
    /// (a user cannot write /run). Also the monitor's, when it calls the runtime in-process.
    /// </summary>
    public static string DefaultRoot() =>
        Libc.geteuid() != 0 && Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtimeDir
            ? Path.Combine(runtimeDir, "moat")
            : "/run/moat";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Beside the root and, like it, root's only: compiled seccomp filters and the empty layer of the binary's overlay.</summary>
    public string CacheDirectory => Root.TrimEnd('/') + ".cache";

    public string DirectoryOf(string id) => Path.Combine(Root, id);

    /// <summary>Makes the container's directory; fails if the id is taken. The directory comes back locked.</summary>
    public ContainerDirectory Create(string id)
    {
        ContainerId.Validate(id);
        try
        {
            Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeException($"--root {Root}: cannot create the state directory: {(File.Exists(Root) ? "a file of that name exists" : Oci.ErrorText.Reason(e))}", e);
        }
        var path = DirectoryOf(id);
        if (Libc.mkdirat(Libc.AT_FDCWD, path, Convert.ToUInt32("711", 8)) < 0)
        {
            var errno = Errors.LastErrno;
            if (errno == Errors.EEXIST)
                throw new RuntimeException($"container with id \"{id}\" already exists");
            throw new SyscallException("mkdir", errno, path);
        }
        return ContainerDirectory.OpenLocked(id, path);
    }

    /// <summary>Opens and locks an existing container's directory.</summary>
    public ContainerDirectory Open(string id)
    {
        ContainerId.Validate(id);
        var path = DirectoryOf(id);
        try
        {
            return ContainerDirectory.OpenLocked(id, path);
        }
        catch (SyscallException e) when (e.Errno is Errors.ENOENT or Errors.ENOTDIR)
        {
            throw new ContainerNotFoundException(id);
        }
    }

    public IEnumerable<string> ListIds()
    {
        if (!Directory.Exists(Root))
            return [];
        return Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
    }
}

/// <summary>One container's state directory, held under an exclusive flock while a command works on it.</summary>
public sealed class ContainerDirectory : IDisposable
{
    public const string StateFile = "state.json", ExecFifo = "exec.fifo";

    ContainerDirectory(string id, string path, FileDescriptor fd)
    {
        Id = id;
        Path = path;
        Handle = fd;
    }

    public string Id { get; }
    public string Path { get; }
    /// <summary>The open directory; the lock lives on it.</summary>
    public FileDescriptor Handle { get; }
    public string FifoPath => System.IO.Path.Combine(Path, ExecFifo);

    internal static ContainerDirectory OpenLocked(string id, string path)
    {
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Errors.Check(Errors.RetryOnEintr(() => Libc.flock(fd.Fd, Libc.LOCK_EX)), "flock", path);
        return new ContainerDirectory(id, path, fd);
    }

    public RuntimeState? ReadState() => ReadState(Path);

    /// <summary>Reads a container directory's state.json without taking its lock (state and list only read).</summary>
    public static RuntimeState? ReadState(string directory)
    {
        var file = System.IO.Path.Combine(directory, StateFile);
        if (Libc.TryReadFile(file) is not { } bytes)
            return null;
        try
        {
            // A broken config is found when it is first used; the error is then the one the whole
            // document's eager read gives, path and line included.
            return RuntimeJson.ReadStateDeferringConfig(bytes, () => Corrupt(file, bytes));
        }
        catch (JsonException e)
        {
            throw new RuntimeException($"{file} is corrupt: {e.Message}");
        }
    }

    static RuntimeException Corrupt(string file, byte[] bytes)
    {
        try
        {
            RuntimeJson.ReadState(bytes);
            return new RuntimeException($"{file} is corrupt: its config cannot be read");
        }
        catch (JsonException e)
        {
            return new RuntimeException($"{file} is corrupt: {e.Message}");
        }
    }

    /// <summary>
    /// Writes state.json atomically: a temporary file renamed over the old one, so a runtime killed at
    /// any point leaves the old or the new state, never a torn one. No fsync: the page cache outlives
    /// a crashed process, and state lives in /run (tmpfs) that a machine crash empties anyway; on a
    /// disk-backed root the fsync cost milliseconds per write (runc and crun do not sync either).
    /// </summary>
    public void WriteState(RuntimeState state)
    {
        var bytes = RuntimeJson.Write(state);
        var file = System.IO.Path.Combine(Path, StateFile);
        var temp = file + ".tmp";
        using (var fd = Libc.Open(temp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("600", 8)))
        {
            Libc.WriteAll(fd.Fd, bytes, temp);
        }
        File.Move(temp, file, overwrite: true);
    }

    public bool FifoExists => File.Exists(FifoPath);

    /// <summary>Removes the directory and everything in it; the lock goes with the descriptor.</summary>
    public void Remove()
    {
        // The files the runtime makes, then the directory; anything else there takes the long way.
        foreach (var name in new[] { StateFile, StateFile + ".tmp", ExecFifo })
            Libc.unlinkat(Libc.AT_FDCWD, System.IO.Path.Combine(Path, name), 0);
        if (Libc.rmdir(Path) == 0 || Errors.LastErrno == Errors.ENOENT)
            return;
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }

    public void Dispose() => Handle.Dispose();
}
