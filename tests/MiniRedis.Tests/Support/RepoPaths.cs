namespace MiniRedis.Tests.Support;

/// <summary>Where the repository and the matching server build are, found from the test assembly's own location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the test assembly sits in bin/&lt;Configuration&gt;/&lt;tfm&gt;/, and the server is built alongside it.</summary>
    public static string Configuration { get; } = FindConfiguration();

    public static string ServerDll => Path.Combine(Root, "src", "MiniRedis.Server", "bin", Configuration, "net10.0", "miniredis-server.dll");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MiniRedis.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"MiniRedis.sln not found above {AppContext.BaseDirectory}");
    }

    static string FindConfiguration()
    {
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configDir = tfmDir.Parent;
        if (configDir?.Parent?.Name != "bin")
            throw new InvalidOperationException($"Test assembly is not under bin/<Configuration>/<tfm>: {AppContext.BaseDirectory}");
        return configDir.Name;
    }
}
