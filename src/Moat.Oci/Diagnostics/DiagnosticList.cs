using System.Collections;
using System.Text;

namespace Moat.Oci.Diagnostics;

/// <summary>
/// Collects the findings of a rule set in the order they were found. Nothing is allocated beyond
/// this object until the first finding, so checking a valid document costs no list.
/// </summary>
public sealed class DiagnosticList : IReadOnlyList<Diagnostic>
{
    private List<Diagnostic>? _items;

    public int Count => _items?.Count ?? 0;

    public int ErrorCount { get; private set; }

    public bool HasErrors => ErrorCount > 0;

    public Diagnostic this[int index] => _items is { } items ? items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public void Add(Diagnostic diagnostic)
    {
        ArgumentNullException.ThrowIfNull(diagnostic);
        (_items ??= new List<Diagnostic>(4)).Add(diagnostic);
        if (diagnostic.Severity == DiagnosticSeverity.Error)
        {
            ErrorCount++;
        }
    }

    public void Error(string path, string message, string? fix = null) =>
        Add(new Diagnostic(path, DiagnosticSeverity.Error, message, fix));

    public void Warning(string path, string message, string? fix = null) =>
        Add(new Diagnostic(path, DiagnosticSeverity.Warning, message, fix));

    /// <summary>The findings of one severity, in order.</summary>
    public IEnumerable<Diagnostic> OfSeverity(DiagnosticSeverity severity)
    {
        for (var i = 0; i < Count; i++)
        {
            if (_items![i].Severity == severity)
            {
                yield return _items[i];
            }
        }
    }

    /// <summary>
    /// The errors as one line: the first as "path: message" (exactly that when it is the only one),
    /// then "(and N more: path: message; ...)".
    /// </summary>
    public string DescribeErrors()
    {
        string? first = null;
        StringBuilder? more = null;
        for (var i = 0; i < Count; i++)
        {
            var diagnostic = _items![i];
            if (diagnostic.Severity != DiagnosticSeverity.Error)
            {
                continue;
            }
            if (first is null)
            {
                first = diagnostic.ToString();
                continue;
            }
            more = more is null ? new StringBuilder() : more.Append("; ");
            more.Append(diagnostic.ToString());
        }
        if (first is null)
        {
            return "no errors";
        }
        return more is null ? first : $"{first} (and {ErrorCount - 1} more: {more})";
    }

    public Enumerator GetEnumerator() => new(_items);

    IEnumerator<Diagnostic> IEnumerable<Diagnostic>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Walks the findings without allocating, also when there are none (and so no list).</summary>
    public struct Enumerator(List<Diagnostic>? items) : IEnumerator<Diagnostic>
    {
        private int _index = -1;

        public readonly Diagnostic Current => items![_index];

        readonly object IEnumerator.Current => Current;

        public bool MoveNext() => ++_index < (items?.Count ?? 0);

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }
}
