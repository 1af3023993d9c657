using System.Diagnostics;
using System.Reflection;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests;

/// <summary>
/// The folders of src/MiniRedis depend on each other in one direction and the root (RedisServer) only
/// composes them (issue 20): tests/folder-graph.py finds no cycle, and no type under a folder holds,
/// takes or returns the server object.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FolderGraphTests
{
    const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [PythonFact]
    public void The_folder_graph_has_no_cycle()
    {
        var info = new ProcessStartInfo("python3") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine("tests", "folder-graph.py"));
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Contains("folders on a cycle (strongly connected): none", output, StringComparison.Ordinal);
        Assert.True(process.ExitCode == 0, output + errors.Result);
    }

    [Fact]
    public void No_type_under_a_folder_names_the_server_object()
    {
        var folders = typeof(RedisServer).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("MiniRedis.", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(folders);
        var found = new List<string>();
        foreach (var type in folders)
        {
            foreach (var field in type.GetFields(All))
                if (field.FieldType == typeof(RedisServer)) found.Add($"{type.FullName}.{field.Name}");
            foreach (var property in type.GetProperties(All))
                if (property.PropertyType == typeof(RedisServer)) found.Add($"{type.FullName}.{property.Name}");
            foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
            {
                if (method is MethodInfo { ReturnType: var r } && r == typeof(RedisServer)) found.Add($"{type.FullName}.{method.Name} returns");
                foreach (var parameter in method.GetParameters())
                    if (parameter.ParameterType == typeof(RedisServer)) found.Add($"{type.FullName}.{method.Name}({parameter.Name})");
            }
        }
        Assert.Empty(found);
    }
}

/// <summary>A fact that needs python3 on the PATH (the folder-graph script); skipped with the reason where it is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(':').Any(dir => File.Exists(Path.Combine(dir, "python3")))) Skip = "needs python3 on the PATH to run tests/folder-graph.py";
    }
}
