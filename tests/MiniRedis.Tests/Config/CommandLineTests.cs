using MiniRedis.Config;

namespace MiniRedis.Tests.Config;

[Trait("Category", "Unit")]
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("-v", CommandLineAction.ShowVersion)]
    [InlineData("--version", CommandLineAction.ShowVersion)]
    [InlineData("-h", CommandLineAction.ShowUsage)]
    [InlineData("--help", CommandLineAction.ShowUsage)]
    public void SpecialFirstArguments(string arg, CommandLineAction action) =>
        Assert.Equal(action, CommandLine.Parse([arg, "--port", "1"]).Action);

    [Fact]
    public void VersionReportsRedisCompatibleVersion() =>
        Assert.StartsWith("MiniRedis server v=7.0.15 ", CommandLine.VersionText, StringComparison.Ordinal);

    [Fact]
    public void FirstArgumentIsAConfigFileUnlessItStartsWithADash()
    {
        Assert.Equal(new CommandLine(CommandLineAction.Run, "redis.conf", false, "port \"7000\" "),
            CommandLine.Parse(["redis.conf", "--port", "7000"]));
        Assert.Equal(new CommandLine(CommandLineAction.Run, null, false, "port \"7000\" "),
            CommandLine.Parse(["--port", "7000"]));
    }

    [Fact]
    public void EachOptionStartsALineAndValuesAreQuoted() =>
        Assert.Equal("save \"900\" \"1\" \nbind \"a b\" \"\\\"q\\\"\\n\\xc3\\xa9\" ",
            CommandLine.Parse(["--save", "900", "1", "--bind", "a b", "\"q\"\né"]).Options);

    [Fact]
    public void OptionAndValueInOneArgument() =>
        Assert.Equal("port 6380 \nhz \"5\" ", CommandLine.Parse(["--port 6380", "--hz", "5"]).Options);

    [Fact]
    public void ValueOfABareOptionMayStartWithDashes() =>
        Assert.Equal("requirepass \"--secret\" ", CommandLine.Parse(["--requirepass", "--secret"]).Options);

    [Fact]
    public void BareSaveMeansEmptySave()
    {
        Assert.Equal("save \"\"\nport \"1\" ", CommandLine.Parse(["--save", "--port", "1"]).Options);
        Assert.Equal("port \"1\" \nsave \"\"", CommandLine.Parse(["--port", "1", "--save"]).Options);
    }

    [Fact]
    public void LoneDashFirstOrLastReadsStdin()
    {
        Assert.True(CommandLine.Parse(["-"]).ReadConfigFromStdin);
        Assert.True(CommandLine.Parse(["redis.conf", "--port", "1", "-"]).ReadConfigFromStdin);
        var middle = CommandLine.Parse(["--port", "-", "--hz", "1"]);
        Assert.False(middle.ReadConfigFromStdin);
        Assert.Equal("port \"-\" \nhz \"1\" ", middle.Options);
    }

    [Fact]
    public void QuotedValuesRoundTripThroughTheParser()
    {
        var config = ServerConfig.Load(CommandLine.Parse(["--requirepass", "a \"b\"\\ \t\u00e9'"]));
        Assert.Equal("a \"b\"\\ \t\u00e9'", config.RequirePass);
    }

    public static TheoryData<string> EveryParameterName() =>
        [.. ServerConfig.Directives.SelectMany(d => d.Alias is { } alias ? [d.Name, alias] : new[] { d.Name })];

    /// <summary>
    /// Every parameter (and alias) is taken on the command line, in its CONFIG SET form (a multi-argument value
    /// as one argument, as `--save "900 1"` is given) and as separate arguments, and reads back unchanged.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryParameterName))]
    public void EveryParameter_IsAcceptedOnTheCommandLine(string name)
    {
        var defaults = new ServerConfig();
        var directive = ServerConfig.Directives.Single(d => d.Name == name || d.Alias == name);
        string value = directive.DefaultValue;
        string[][] commandLines =
        [
            ["--" + name, value],
            ["--" + name, .. directive.Flags.HasFlag(ConfigFlags.MultiArg) && value.Length > 0 ? value.Split(' ') : [value]],
        ];
        foreach (string[] args in commandLines)
            Assert.Equal(defaults.Get(name), ServerConfig.Load(CommandLine.Parse(args)).Get(name));
    }
}
