using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using MiniRedis.Config;
using MiniRedis.Execution;
using MiniRedis.Security;

namespace MiniRedis;

/// <summary>
/// The config's <see cref="ICommandVocabulary"/>: Redis's command names from the command table, user
/// lines checked by the ACL rules against a catalog of every command. One table serves every config
/// read in the process (nothing in it changes).
/// </summary>
sealed class CommandVocabulary : ICommandVocabulary
{
    static readonly Lazy<(string[] Names, AclCatalog Catalog)> s_tables = new(() =>
    {
        var table = new CommandTable();
        return ([.. table.RedisCommandNames], table.CreateAclCatalog());
    });

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "the library's composition root gives the config what it checks against before anything reads a config")]
    internal static void Install() => ServerConfig.Vocabulary = new CommandVocabulary();

    public IEnumerable<string> RedisCommandNames => s_tables.Value.Names;

    public (int Index, string Text)? UserDeclarationError(string[] args, bool alreadyDeclared, bool pubsubAllChannels) =>
        AclStore.DeclarationError(s_tables.Value.Catalog, args, alreadyDeclared, pubsubAllChannels);
}
