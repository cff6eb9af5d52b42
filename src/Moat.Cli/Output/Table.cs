using System.Text;

namespace Moat.Cli.Output;

/// <summary>A docker-style table: upper-case headers, columns padded to their widest cell, three spaces between.</summary>
public sealed class Table(params string[] headers)
{
    readonly List<string[]> rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
            throw new ArgumentException($"a row has {cells.Length} cells for {headers.Length} columns");
        rows.Add(cells);
    }

    public override string ToString()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        var text = new StringBuilder();
        Append(text, headers, widths);
        foreach (var row in rows)
            Append(text, row, widths);
        return text.ToString();
    }

    static void Append(StringBuilder text, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            text.Append(cells[i]);
            if (i < cells.Length - 1)
                text.Append(' ', widths[i] - cells[i].Length + 3);
        }
        text.Append('\n');
    }
}
