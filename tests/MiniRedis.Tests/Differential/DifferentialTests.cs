using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// Runs every corpus file, line by line on one connection, against real Redis and MiniRedis
/// (both flushed first) and requires the same replies.
/// </summary>
[Trait("Category", "Differential")]
public sealed class DifferentialTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    static readonly string CorpusDirectory = Path.Combine(AppContext.BaseDirectory, "Differential", "corpus");

    public static TheoryData<string> CorpusFiles()
    {
        var files = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(CorpusDirectory, "*.txt").Order(StringComparer.Ordinal))
            files.Add(Path.GetFileName(path));
        return files;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Replies_match_real_redis(string file)
    {
        var lines = CorpusLine.Read(Path.Combine(CorpusDirectory, file)).ToList();
        using var redis = Fresh(servers.Redis);
        using var mini = Fresh(servers.Mini);

        var mismatches = new StringBuilder();
        int mismatchCount = 0;
        foreach (var line in lines)
        {
            redis.Send(RespConnection.EncodeCommand(line.Args));
            var expectedText = line.Canonical(redis.ReadReply());
            string actual;
            bool desynchronized = false;
            try
            {
                mini.Send(RespConnection.EncodeCommand(line.Args));
                var reply = mini.ReadReply();
                actual = line.Canonical(reply);
            }
            catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException)
            {
                actual = $"<{e.Message}>";
                desynchronized = true;
            }
            if (expectedText != actual)
            {
                mismatchCount++;
                mismatches.Append(file).Append(':').Append(line.Number).Append(": ").AppendLine(line.Text)
                    .Append("    redis:     ").AppendLine(expectedText)
                    .Append("    miniredis: ").AppendLine(actual);
            }
            if (desynchronized)
            {
                mismatches.AppendLine("    (MiniRedis connection lost; the rest of the file was not run)");
                break;
            }
        }
        Assert.True(mismatchCount == 0, $"{mismatchCount} of {lines.Count} lines differ from real Redis:\n{mismatches}");
    }

    static RespConnection Fresh(ServerProcess server)
    {
        var connection = server.Connect();
        var reply = connection.Call("FLUSHALL");
        Assert.True(reply.AsSpan().SequenceEqual("+OK\r\n"u8), $"FLUSHALL failed: {RespConnection.Escape(reply)}");
        return connection;
    }
}
