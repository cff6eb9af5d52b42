using Moat.Interop;

namespace Moat.Runtime;

/// <summary>--pid-file: the pid as text, written atomically so a reader never sees half of it.</summary>
public static class PidFile
{
    public static void Write(string path, int pid)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp");
        try
        {
            using (var fd = Libc.Open(temp, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("644", 8)))
                Libc.WriteAll(fd.Fd, System.Text.Encoding.ASCII.GetBytes(pid.ToString()), temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"--pid-file {full}: cannot write it: {Errors.Describe(e.Errno)}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeException($"--pid-file {full}: cannot write it: {Oci.ErrorText.Reason(e)}", e);
        }
    }
}
