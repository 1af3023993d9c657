using System.Text;

namespace MiniRedis.Observability;

/// <summary>Redis's sparkline.c, filled style: rows of "_o#|" over the samples, then their labels written downwards.</summary>
static class Sparkline
{
    const string Charset = "_o#";
    const int LabelMarginTop = 1;

    /// <summary>Redis's sparklineRender: the samples in chunks of <paramref name="columns"/>, each chunk <paramref name="rows"/> high.</summary>
    public static void Render(StringBuilder output, IReadOnlyList<(double Value, string Label)> samples, int columns, int rows)
    {
        if (samples.Count == 0) return;
        double min = samples.Min(s => s.Value), max = samples.Max(s => s.Value);
        for (int j = 0; j < samples.Count; j += columns)
        {
            if (j != 0) output.Append('\n');
            RenderRange(output, samples, min, max, rows, j, Math.Min(columns, samples.Count - j));
        }
    }

    static void RenderRange(StringBuilder output, IReadOnlyList<(double Value, string Label)> samples, double min, double max, int rows, int offset, int length)
    {
        double range = max - min;
        if (range == 0) range = 1;
        int steps = Charset.Length * rows;
        var chars = new char[length];
        for (int row = 0; ; row++)
        {
            bool more = false;
            Array.Fill(chars, ' ');
            for (int j = 0; j < length; j++)
            {
                var (value, label) = samples[j + offset];
                int step = (int)((int)((value - min) * steps) / range);
                step = Math.Clamp(step, 0, steps - 1);
                if (row < rows)
                {
                    int index = step - (rows - row - 1) * Charset.Length;
                    more = true;
                    if (index >= 0 && index < Charset.Length) chars[j] = Charset[index];
                    else if (index >= Charset.Length) chars[j] = '|';
                }
                else
                {
                    // A blank line between the graph and the labels.
                    if (row - rows < LabelMarginTop)
                    {
                        more = true;
                        break;
                    }
                    int labelChar = row - rows - LabelMarginTop;
                    if (label.Length > labelChar)
                    {
                        more = true;
                        chars[j] = label[labelChar];
                    }
                }
            }
            if (!more) return;
            output.Append(chars).Append('\n');
        }
    }
}
