using MiniRedis.Tests.Differential.Fuzzing;
using MiniRedis.Tests.Support;
using Xunit.Abstractions;

namespace MiniRedis.Tests.Differential;

/// <summary>
/// A short seeded run of the differential command fuzzer (FUZZ_SEED, FUZZ_COMMANDS override it;
/// benchmarks/command-fuzz.sh runs it long): fails on a crash, a hang, or any difference from real
/// Redis that FuzzPolicy.Known does not list with its reason.
/// </summary>
[Trait("Category", "Differential")]
public sealed class CommandFuzzerTests(ServerPairFixture servers, ITestOutputHelper output) : IClassFixture<ServerPairFixture>
{
    [Fact]
    public void Random_commands_answer_as_real_redis_does()
    {
        var result = CommandFuzzer.Run(servers, FuzzOptions.FromEnvironment(seed: 1, commands: 20_000));
        var report = result.Report();
        output.WriteLine(report);
        if (Environment.GetEnvironmentVariable("FUZZ_REPORT") is { Length: > 0 } path) File.WriteAllText(path, report);

        Assert.True(result.Failure is null, report);
        Assert.True(!result.Unknown.Any(), report);
        Assert.Equal(result.Options.Commands, result.Sent);
        // Every command served and not excluded was really exercised.
        var unsent = result.NotFuzzed();
        Assert.True(unsent.Count == 0, "never sent: " + string.Join(' ', unsent));
    }
}
