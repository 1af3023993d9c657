using System.Reflection;
using MiniRedis.Persistence.Dataset;

namespace MiniRedis.Tests.Persistence;

/// <summary>
/// Persistence reaches the server through <see cref="PersistenceHost"/> only (issue 20): no type under
/// MiniRedis.Persistence, closures included, holds, takes or returns the whole <see cref="RedisServer"/>.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PersistenceSeamTests
{
    const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    [Fact]
    public void No_persistence_type_names_the_server_object()
    {
        var persistence = typeof(PersistenceHost).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("MiniRedis.Persistence", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(persistence);
        var found = new List<string>();
        foreach (var type in persistence)
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
