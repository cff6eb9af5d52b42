using System.Diagnostics;
using System.Text;
using Moat.Images.Model;
using Moat.Images.Pull;
using Moat.Interop;

namespace Moat.Cli.Output;

/// <summary>
/// Pull and push progress as docker prints it: on a terminal one line per blob with a bar, redrawn in
/// place (at most ten times a second); otherwise plain lines, one per change of status, so logs stay readable.
/// </summary>
public sealed class ProgressDisplay : IPullProgress
{
    sealed class Line
    {
        public required string Id;
        public long Size;
        public long Done;
        public string Status = "Waiting";
    }

    readonly TextWriter output;
    readonly bool terminal;
    readonly List<Line> lines = [];
    readonly Dictionary<Digest, Line> byDigest = [];
    readonly Stopwatch sinceDraw = Stopwatch.StartNew();
    readonly object gate = new();
    int drawnLines;

    public ProgressDisplay(TextWriter output, int fd)
    {
        this.output = output;
        terminal = Libc.isatty(fd) == 1 && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
    }

    public void Message(string text)
    {
        lock (gate)
        {
            if (terminal && lines.Count > 0)
            {
                // A message after the bars ("Digest: ...") ends them: they stay on screen as they are, the message goes below.
                Redraw(force: true);
                lines.Clear();
                byDigest.Clear();
                drawnLines = 0;
            }
            output.Write(text + "\n");
            output.Flush();
        }
    }

    public void BlobStarted(Digest digest, long size)
    {
        lock (gate)
        {
            var line = LineFor(digest);
            line.Size = size;
            line.Status = "Downloading";
            if (terminal) Redraw(force: true);
        }
    }

    public void BlobProgress(Digest digest, long total)
    {
        lock (gate)
        {
            if (!byDigest.TryGetValue(digest, out var line))
                return;
            line.Done = total;
            if (terminal) Redraw(force: false);
        }
    }

    public void BlobStatus(Digest digest, string status)
    {
        lock (gate)
        {
            var line = LineFor(digest);
            line.Status = status;
            if (terminal) Redraw(force: true);
            else output.Write($"{line.Id}: {status}\n");
        }
    }

    Line LineFor(Digest digest)
    {
        if (!byDigest.TryGetValue(digest, out var line))
        {
            line = new Line { Id = digest.Short };
            byDigest[digest] = line;
            lines.Add(line);
        }
        return line;
    }

    /// <summary>Leaves the final state of the bars on screen.</summary>
    public void Finish()
    {
        lock (gate)
            if (terminal && lines.Count > 0) Redraw(force: true);
    }

    void Redraw(bool force)
    {
        if (!force && sinceDraw.ElapsedMilliseconds < 100)
            return;
        sinceDraw.Restart();
        var text = new StringBuilder();
        if (drawnLines > 0)
            text.Append($"\x1b[{drawnLines}A");
        foreach (var line in lines)
        {
            text.Append("\x1b[2K").Append(line.Id).Append(": ").Append(line.Status);
            if (line.Status == "Downloading" && line.Size > 0)
                text.Append(' ').Append(Bar(line.Done, line.Size)).Append(' ')
                    .Append(Units.HumanSize(line.Done)).Append('/').Append(Units.HumanSize(line.Size));
            text.Append('\n');
        }
        drawnLines = lines.Count;
        output.Write(text.ToString());
        output.Flush();
    }

    static string Bar(long done, long size)
    {
        const int width = 40;
        var filled = (int)Math.Min(width, done * width / Math.Max(1, size));
        return "[" + new string('=', Math.Max(0, filled - 1)) + (filled > 0 ? ">" : "") + new string(' ', width - filled) + "]";
    }
}
