using MiniRedis.Data;
using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>
/// LCS (Redis's lcsCommand): the longest common subsequence of two strings by the textbook dynamic
/// programming table, walked back from the end as Redis walks it so the same subsequence and the same
/// match ranges (last match first) come out.
/// </summary>
public static unsafe class LcsCommand
{
    public static void Register(CommandTable t) => t.Add("lcs", &Lcs);

    readonly record struct Match(uint AStart, uint AEnd, uint BStart, uint BEnd);

    static void Lcs(CommandContext ctx)
    {
        var entryA = ctx.LookupRead(ctx.Arg(1));
        var entryB = ctx.LookupRead(ctx.Arg(2));
        if (entryA is { Type: not RedisType.String } || entryB is { Type: not RedisType.String })
        {
            ctx.Error("ERR The specified keys must contain string values");
            return;
        }
        ReadOnlySpan<byte> a = entryA is null ? [] : entryA.StringValue, b = entryB is null ? [] : entryB.StringValue;

        bool getIdx = false, getLen = false, withMatchLen = false;
        long minMatchLen = 0;
        for (int j = 3; j < ctx.ArgCount; j++)
        {
            bool more = j < ctx.ArgCount - 1;
            if (ctx.ArgIs(j, "IDX"u8)) getIdx = true;
            else if (ctx.ArgIs(j, "LEN"u8)) getLen = true;
            else if (ctx.ArgIs(j, "WITHMATCHLEN"u8)) withMatchLen = true;
            else if (ctx.ArgIs(j, "MINMATCHLEN"u8) && more)
            {
                if (!ctx.TryGetLong(++j, out minMatchLen)) return;
                minMatchLen = Math.Max(minMatchLen, 0);
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }
        if (getIdx && getLen)
        {
            ctx.Error("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }

        long cells = (a.Length + 1L) * (b.Length + 1L);
        if (cells * sizeof(uint) > ctx.Config.ProtoMaxBulkLen)
        {
            ctx.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        int width = b.Length + 1;
        uint[] table;
        try
        {
            table = new uint[cells];
        }
        catch (OutOfMemoryException)
        {
            ctx.Error("ERR Insufficient memory, failed allocating transient memory for LCS");
            return;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                table[i * width + j] = a[i - 1] == b[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : Math.Max(table[(i - 1) * width + j], table[i * width + j - 1]);
            }
        }
        uint length = table[a.Length * width + b.Length];
        if (getLen)
        {
            ctx.Reply.Integer(length);
            return;
        }

        var common = new byte[length];
        var matches = new List<Match>();
        Walk(a, b, table, common, matches);
        if (!getIdx)
        {
            ctx.Reply.Bulk(common);
            return;
        }
        ctx.Reply.MapHeader(2);
        ctx.Reply.Bulk("matches"u8);
        int shown = 0;
        foreach (var m in matches) if (minMatchLen == 0 || m.AEnd - m.AStart + 1 >= minMatchLen) shown++;
        ctx.Reply.ArrayHeader(shown);
        foreach (var m in matches)
        {
            uint matchLength = m.AEnd - m.AStart + 1;
            if (minMatchLen != 0 && matchLength < minMatchLen) continue;
            ctx.Reply.ArrayHeader(withMatchLen ? 3 : 2);
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Integer(m.AStart);
            ctx.Reply.Integer(m.AEnd);
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Integer(m.BStart);
            ctx.Reply.Integer(m.BEnd);
            if (withMatchLen) ctx.Reply.Integer(matchLength);
        }
        ctx.Reply.Bulk("len"u8);
        ctx.Reply.Integer(length);
    }

    /// <summary>
    /// Walks the table back from the end, filling <paramref name="common"/> from its end and collecting
    /// the runs matched contiguously in both strings; on a tie Redis steps back in the second string.
    /// </summary>
    static void Walk(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, uint[] table, byte[] common, List<Match> matches)
    {
        int width = b.Length + 1;
        int i = a.Length, j = b.Length, k = common.Length;
        bool open = false;
        uint aStart = 0, aEnd = 0, bStart = 0, bEnd = 0;
        while (i > 0 && j > 0)
        {
            bool emit = false;
            if (a[i - 1] == b[j - 1])
            {
                common[--k] = a[i - 1];
                if (!open)
                {
                    open = true;
                    aStart = aEnd = (uint)i - 1;
                    bStart = bEnd = (uint)j - 1;
                }
                else if (aStart == i && bStart == j)
                {
                    aStart--;
                    bStart--;
                }
                else emit = true;
                if (aStart == 0 || bStart == 0) emit = true;
                i--;
                j--;
            }
            else
            {
                if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
                else j--;
                emit = open;
            }
            if (emit)
            {
                matches.Add(new Match(aStart, aEnd, bStart, bEnd));
                open = false;
            }
        }
    }
}
