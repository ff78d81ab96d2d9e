using System.Text;

namespace DatasetQuant.Coordinator.Commands;

/// <summary>A plain, column-aligned table for terminals and logs; numbers align right.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int RowCount => _rows.Count;

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"row has {cells.Length} cells, the table {headers.Length} columns.", nameof(cells));
        }

        _rows.Add(cells);
    }

    public override string ToString()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var text = new StringBuilder();
        AppendRow(text, headers, widths, alignNumbers: false);
        AppendRow(text, widths.Select(w => new string('-', w)).ToArray(), widths, alignNumbers: false);
        foreach (var row in _rows)
        {
            AppendRow(text, row, widths, alignNumbers: true);
        }

        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, string[] cells, int[] widths, bool alignNumbers)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                text.Append("  ");
            }

            var cell = cells[i];
            var numeric = alignNumbers && cell.Length > 0 && char.IsDigit(cell[0]);
            var padded = numeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]);
            text.Append(i == cells.Length - 1 ? padded.TrimEnd() : padded);
        }

        text.AppendLine();
    }
}
