using System.Globalization;
using System.Runtime.InteropServices;
using MiniRedis.Data;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Commands;

/// <summary>
/// The geo commands (Redis's geo.c). A geo set is a sorted set whose scores are 52-bit geohashes
/// (<see cref="GeoHash"/>): GEOADD is ZADD with computed scores, searches scan the score ranges of the
/// 9 cells covering the shape and keep the members within it. Replies print as Redis's do:
/// distances "%.4f", coordinates as its long double "human" text.
/// </summary>
public static unsafe class GeoCommands
{
    const string CouldNotDecodeError = "ERR could not decode requested zset member";

    [Flags]
    enum SearchFlags
    {
        None = 0,
        /// <summary>Around coordinates (GEORADIUS).</summary>
        Coordinates = 1,
        /// <summary>Around a member (GEORADIUSBYMEMBER).</summary>
        Member = 2,
        /// <summary>The _RO variants: no STORE.</summary>
        NoStore = 4,
        /// <summary>GEOSEARCH's own arguments.</summary>
        Search = 8,
        /// <summary>GEOSEARCHSTORE: destination first, only STOREDIST.</summary>
        SearchStore = 16,
    }

    enum Sort { None, Ascending, Descending }

    /// <summary>
    /// A member found by a search: its point, distance from the centre (meters), score and place in the
    /// scan order. Points order by <see cref="SortKey"/> (the distance, negated for DESC), then by that
    /// place: the C library's qsort is a merge sort, stable, so members at the same distance keep the
    /// order they were found in.
    /// </summary>
    record struct GeoPoint(byte[] Member, double Longitude, double Latitude, double Distance, double Score, int Order) : IComparable<GeoPoint>
    {
        public double SortKey;

        public readonly int CompareTo(GeoPoint other)
        {
            int byKey = SortKey.CompareTo(other.SortKey);
            return byKey != 0 ? byKey : Order.CompareTo(other.Order);
        }
    }

    /// <summary>Puts the first <paramref name="returned"/> points in order: all sorted, or for a small COUNT only the nearest kept in a sorted prefix.</summary>
    static void SortFound(Span<GeoPoint> found, bool descending, int returned)
    {
        foreach (ref var point in found) point.SortKey = descending ? -point.Distance : point.Distance;
        if (returned * 8 > found.Length)
        {
            found.Sort();
            return;
        }
        var best = found[..returned];
        best.Sort();
        for (int i = returned; i < found.Length; i++)
        {
            if (found[i].CompareTo(best[^1]) >= 0) continue;
            var point = found[i];
            int at = returned - 1;
            while (at > 0 && point.CompareTo(best[at - 1]) < 0)
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = point;
        }
    }

    /// <summary>The points a search found, reused from search to search (commands run one at a time per thread).</summary>
    [ThreadStatic] static List<GeoPoint>? t_found;

    public static void Register(CommandTable t)
    {
        t.Add("geoadd", &GeoAdd);
        t.Add("geodist", &GeoDist);
        t.Add("geohash", &GeoHashCommand);
        t.Add("geopos", &GeoPos);
        t.Add("georadius", &GeoRadius);
        t.Add("georadius_ro", &GeoRadiusReadOnly);
        t.Add("georadiusbymember", &GeoRadiusByMember);
        t.Add("georadiusbymember_ro", &GeoRadiusByMemberReadOnly);
        t.Add("geosearch", &GeoSearch);
        t.Add("geosearchstore", &GeoSearchStore);
    }

    /// <summary>A geo set at a key: null if missing; replies WRONGTYPE (and sets <paramref name="wrongType"/>) for another type.</summary>
    static SortedSetValue? GeoSet(CommandContext ctx, int keyIndex, out bool wrongType)
        => SortedSetCommands.AsZset(ctx, ctx.LookupRead(ctx.Arg(keyIndex)), out wrongType);

    /// <summary>extractLongLatOrReply: two floats within Redis's ranges.</summary>
    static bool TryGetLongLat(CommandContext ctx, int index, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!TryGetDouble(ctx, index, CommandContext.NotFloatError, out longitude) || !TryGetDouble(ctx, index + 1, CommandContext.NotFloatError, out latitude)) return false;
        if (GeoHash.IsValid(longitude, latitude)) return true;
        ctx.Error($"ERR invalid longitude,latitude pair {CFixed(longitude, 6)},{CFixed(latitude, 6)}");
        return false;
    }

    /// <summary>C's "%.Nf".</summary>
    static string CFixed(double value, int decimals)
        => double.IsInfinity(value) ? (value < 0 ? "-inf" : "inf") : value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    static bool TryGetDouble(CommandContext ctx, int index, string error, out double value)
    {
        if (RedisNumbers.TryParseDouble(ctx.Arg(index), out value)) return true;
        ctx.Error(error);
        return false;
    }

    /// <summary>extractUnitOrReply: meters per unit, or -1 after replying the error.</summary>
    static double Unit(CommandContext ctx, int index)
    {
        if (ctx.ArgIs(index, "M"u8)) return 1;
        if (ctx.ArgIs(index, "KM"u8)) return 1000;
        if (ctx.ArgIs(index, "FT"u8)) return 0.3048;
        if (ctx.ArgIs(index, "MI"u8)) return 1609.34;
        ctx.Error("ERR unsupported unit provided. please use M, KM, FT, MI");
        return -1;
    }

    /// <summary>GEOADD key [NX|XX] [CH] lon lat member ...: ZADD with each pair's geohash as the score, logged as that ZADD.</summary>
    static void GeoAdd(CommandContext ctx)
    {
        int first = 2;
        var flags = SortedSetCommands.AddFlags.None;
        for (; first < ctx.ArgCount; first++)
        {
            if (ctx.ArgIs(first, "NX"u8)) flags |= SortedSetCommands.AddFlags.Nx;
            else if (ctx.ArgIs(first, "XX"u8)) flags |= SortedSetCommands.AddFlags.Xx;
            else if (ctx.ArgIs(first, "CH"u8)) flags |= SortedSetCommands.AddFlags.Ch;
            else break;
        }
        const SortedSetCommands.AddFlags NxXx = SortedSetCommands.AddFlags.Nx | SortedSetCommands.AddFlags.Xx;
        int elements = (ctx.ArgCount - first) / 3;
        // No elements left is ZADD's syntax error.
        if ((ctx.ArgCount - first) % 3 != 0 || (flags & NxXx) == NxXx || elements == 0)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var scores = elements <= 64 ? stackalloc double[elements] : new double[elements];
        for (int i = 0; i < elements; i++)
        {
            if (!TryGetLongLat(ctx, first + i * 3, out double longitude, out double latitude)) return;
            scores[i] = GeoHash.Score(longitude, latitude);
        }
        long dirtyBefore = ctx.Dirty;
        SortedSetCommands.AddScored(ctx, scores, first + 2, 3, flags);
        if (ctx.Dirty == dirtyBefore) return;
        var record = ctx.Propagate().Arg("zadd"u8);
        for (int i = 1; i < first; i++) record.Arg(ctx.Arg(i));
        for (int i = 0; i < elements; i++) record.Arg((long)scores[i]).Arg(ctx.Arg(first + i * 3 + 2));
    }

    /// <summary>GEODIST key member1 member2 [unit]: "%.4f" of the distance, null when a member is missing.</summary>
    static void GeoDist(CommandContext ctx)
    {
        double toMeters = 1;
        if (ctx.ArgCount == 5)
        {
            toMeters = Unit(ctx, 4);
            if (toMeters < 0) return;
        }
        else if (ctx.ArgCount > 5)
        {
            ctx.Error(CommandContext.SyntaxError);
            return;
        }
        var zset = GeoSet(ctx, 1, out bool wrongType);
        if (wrongType) return;
        if (zset is null || !zset.TryGetScore(ctx.Arg(2), out double score1) || !zset.TryGetScore(ctx.Arg(3), out double score2))
        {
            ctx.Reply.NullBulk();
            return;
        }
        var (lon1, lat1) = GeoHash.DecodeScore(score1);
        var (lon2, lat2) = GeoHash.DecodeScore(score2);
        ReplyDistance(ctx.Reply, GeoHash.Distance(lon1, lat1, lon2, lat2) / toMeters);
    }

    /// <summary>A distance as Redis's "%.4f".</summary>
    static void ReplyDistance(ReplyBuffer reply, double distance)
    {
        Span<byte> text = stackalloc byte[64];
        int length = FormatDistance(distance, text);
        if (length > 0) reply.Bulk(text[..length]);
        else if (double.IsFinite(distance) && distance.TryFormat(text, out length, "F4", CultureInfo.InvariantCulture)) reply.Bulk(text[..length]);
        else reply.Bulk(CFixed(distance, 4));
    }

    /// <summary>
    /// C's "%.4f" of a distance from 0 to 10^11 (any distance on the earth, in any unit), or 0 for others:
    /// the double's exact value rounded to 4 decimals, a tie to even, as glibc rounds. Computed on integers:
    /// the product by 10^4 is exactly p + rest (FusedMultiplyAdd's remainder). .NET's fixed-point
    /// formatting takes the big-integer path, a sixth of GEOSEARCH WITHDIST's time on the native binary.
    /// </summary>
    internal static int FormatDistance(double distance, Span<byte> destination)
    {
        if (!(distance >= 0 && distance < 1e11)) return 0;
        double product = distance * 10000;
        double rest = Math.FusedMultiplyAdd(distance, 10000, -product);
        double floor = Math.Floor(product);
        // Exact: both are multiples of the product's ulp, which exceeds |rest| unless the difference is 0.
        double aboveHalf = product - floor - 0.5;
        long units = (long)floor;
        if (aboveHalf > 0 || (aboveHalf == 0 && (rest > 0 || (rest == 0 && (units & 1) == 1)))) units++;
        int length = RedisNumbers.FormatInt64(units / 10000, destination);
        destination[length++] = (byte)'.';
        long fraction = units % 10000;
        for (int i = 3; i >= 0; i--, fraction /= 10) destination[length + i] = (byte)('0' + fraction % 10);
        return length + 4;
    }

    /// <summary>addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3, printed as "%.17Lf" trimmed.</summary>
    static void ReplyCoordinate(ReplyBuffer reply, double value)
    {
        Span<byte> text = stackalloc byte[64];
        int length = LongDouble.FromDouble(value).FormatHuman(text);
        if (!reply.Resp3)
        {
            reply.Bulk(text[..length]);
            return;
        }
        reply.Raw(","u8);
        reply.Raw(text[..length]);
        reply.Raw("\r\n"u8);
    }

    static void ReplyCoordinates(ReplyBuffer reply, double longitude, double latitude)
    {
        reply.ArrayHeader(2);
        ReplyCoordinate(reply, longitude);
        ReplyCoordinate(reply, latitude);
    }

    /// <summary>GEOHASH key member...: each member's standard 11-character geohash, or null.</summary>
    static void GeoHashCommand(CommandContext ctx)
    {
        var zset = GeoSet(ctx, 1, out bool wrongType);
        if (wrongType) return;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        Span<byte> hash = stackalloc byte[11];
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (zset is null || !zset.TryGetScore(ctx.Arg(i), out double score))
            {
                ctx.Reply.NullBulk();
                continue;
            }
            GeoHash.WriteStandardHash(score, hash);
            ctx.Reply.Bulk(hash);
        }
    }

    /// <summary>GEOPOS key member...: each member's longitude and latitude, or a null array.</summary>
    static void GeoPos(CommandContext ctx)
    {
        var zset = GeoSet(ctx, 1, out bool wrongType);
        if (wrongType) return;
        ctx.Reply.ArrayHeader(ctx.ArgCount - 2);
        for (int i = 2; i < ctx.ArgCount; i++)
        {
            if (zset is null || !zset.TryGetScore(ctx.Arg(i), out double score))
            {
                ctx.Reply.NullArray();
                continue;
            }
            var (longitude, latitude) = GeoHash.DecodeScore(score);
            ReplyCoordinates(ctx.Reply, longitude, latitude);
        }
    }

    static void GeoRadius(CommandContext ctx) => Search(ctx, 1, SearchFlags.Coordinates);
    static void GeoRadiusReadOnly(CommandContext ctx) => Search(ctx, 1, SearchFlags.Coordinates | SearchFlags.NoStore);
    static void GeoRadiusByMember(CommandContext ctx) => Search(ctx, 1, SearchFlags.Member);
    static void GeoRadiusByMemberReadOnly(CommandContext ctx) => Search(ctx, 1, SearchFlags.Member | SearchFlags.NoStore);
    static void GeoSearch(CommandContext ctx) => Search(ctx, 1, SearchFlags.Search);
    static void GeoSearchStore(CommandContext ctx) => Search(ctx, 2, SearchFlags.Search | SearchFlags.SearchStore);

    /// <summary>A member's point; false after replying Redis's error when the member is missing.</summary>
    static bool TryGetMemberPoint(CommandContext ctx, SortedSetValue zset, int index, out double longitude, out double latitude)
    {
        if (!zset.TryGetScore(ctx.Arg(index), out double score))
        {
            (longitude, latitude) = (0, 0);
            ctx.Error(CouldNotDecodeError);
            return false;
        }
        (longitude, latitude) = GeoHash.DecodeScore(score);
        return true;
    }

    /// <summary>extractDistanceOrReply: a non-negative radius and its unit.</summary>
    static bool TryGetRadius(CommandContext ctx, int index, out double radius, out double conversion)
    {
        conversion = -1;
        if (!TryGetDouble(ctx, index, "ERR need numeric radius", out radius)) return false;
        if (radius < 0)
        {
            ctx.Error("ERR radius cannot be negative");
            return false;
        }
        conversion = Unit(ctx, index + 1);
        return conversion >= 0;
    }

    /// <summary>extractBoxOrReply: a non-negative width and height and their unit.</summary>
    static bool TryGetBox(CommandContext ctx, int index, out double width, out double height, out double conversion)
    {
        conversion = -1;
        height = 0;
        if (!TryGetDouble(ctx, index, "ERR need numeric width", out width) || !TryGetDouble(ctx, index + 1, "ERR need numeric height", out height)) return false;
        if (height < 0 || width < 0)
        {
            ctx.Error("ERR height or width cannot be negative");
            return false;
        }
        conversion = Unit(ctx, index + 2);
        return conversion >= 0;
    }

    /// <summary>
    /// Redis's georadiusGeneric: every GEORADIUS* and GEOSEARCH* form, with its argument checks in
    /// Redis's order (the centre and shape first for GEORADIUS, then the options left to right, then
    /// the combinations), the search, the optional sort and COUNT, and the reply or the store.
    /// </summary>
    static void Search(CommandContext ctx, int sourceIndex, SearchFlags flags)
    {
        var zset = GeoSet(ctx, sourceIndex, out bool wrongType);
        if (wrongType) return;

        double longitude = 0, latitude = 0, radius = 0, width = 0, height = 0, conversion = 1;
        bool isBox = false;
        int baseArgs;
        int storeIndex = -1;
        bool storeDistance = false;
        if ((flags & SearchFlags.Coordinates) != 0)
        {
            baseArgs = 6;
            if (!TryGetLongLat(ctx, 2, out longitude, out latitude) || !TryGetRadius(ctx, 4, out radius, out conversion)) return;
        }
        else if ((flags & SearchFlags.Member) != 0)
        {
            baseArgs = 5;
            // Without the key the arguments are still parsed, to pick the empty reply's form.
            if (zset is not null && (!TryGetMemberPoint(ctx, zset, 2, out longitude, out latitude) || !TryGetRadius(ctx, 3, out radius, out conversion))) return;
        }
        else
        {
            baseArgs = 2;
            if ((flags & SearchFlags.SearchStore) != 0)
            {
                baseArgs = 3;
                storeIndex = 1;
            }
        }

        bool withDistance = false, withHash = false, withCoordinates = false, any = false;
        bool fromMember = false, fromLonLat = false, byRadius = false, byBox = false;
        var sort = Sort.None;
        long count = 0;
        bool search = (flags & SearchFlags.Search) != 0;
        int remaining = ctx.ArgCount - baseArgs;
        for (int i = 0; i < remaining; i++)
        {
            int at = baseArgs + i;
            if (ctx.ArgIs(at, "WITHDIST"u8)) withDistance = true;
            else if (ctx.ArgIs(at, "WITHHASH"u8)) withHash = true;
            else if (ctx.ArgIs(at, "WITHCOORD"u8)) withCoordinates = true;
            else if (ctx.ArgIs(at, "ANY"u8)) any = true;
            else if (ctx.ArgIs(at, "ASC"u8)) sort = Sort.Ascending;
            else if (ctx.ArgIs(at, "DESC"u8)) sort = Sort.Descending;
            else if (ctx.ArgIs(at, "COUNT"u8) && i + 1 < remaining)
            {
                if (!ctx.TryGetLong(at + 1, out count)) return;
                if (count <= 0)
                {
                    ctx.Error("ERR COUNT must be > 0");
                    return;
                }
                i++;
            }
            else if ((ctx.ArgIs(at, "STORE"u8) || ctx.ArgIs(at, "STOREDIST"u8)) && i + 1 < remaining && (flags & (SearchFlags.NoStore | SearchFlags.Search)) == 0)
            {
                storeIndex = at + 1;
                storeDistance = ctx.ArgIs(at, "STOREDIST"u8);
                i++;
            }
            else if (ctx.ArgIs(at, "STOREDIST"u8) && (flags & SearchFlags.SearchStore) != 0) storeDistance = true;
            else if (ctx.ArgIs(at, "FROMMEMBER"u8) && i + 1 < remaining && search && !fromLonLat)
            {
                if (zset is not null && !TryGetMemberPoint(ctx, zset, at + 1, out longitude, out latitude)) return;
                fromMember = true;
                i++;
            }
            else if (ctx.ArgIs(at, "FROMLONLAT"u8) && i + 2 < remaining && search && !fromMember)
            {
                if (!TryGetLongLat(ctx, at + 1, out longitude, out latitude)) return;
                fromLonLat = true;
                i += 2;
            }
            else if (ctx.ArgIs(at, "BYRADIUS"u8) && i + 2 < remaining && search && !byBox)
            {
                if (!TryGetRadius(ctx, at + 1, out radius, out conversion)) return;
                isBox = false;
                byRadius = true;
                i += 2;
            }
            else if (ctx.ArgIs(at, "BYBOX"u8) && i + 3 < remaining && search && !byRadius)
            {
                if (!TryGetBox(ctx, at + 1, out width, out height, out conversion)) return;
                isBox = true;
                byBox = true;
                i += 3;
            }
            else
            {
                ctx.Error(CommandContext.SyntaxError);
                return;
            }
        }

        if (storeIndex >= 0 && (withDistance || withHash || withCoordinates))
        {
            ctx.Error((flags & SearchFlags.SearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        if (search && !(fromMember || fromLonLat))
        {
            ctx.Error($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {ctx.ArgCString(0)}");
            return;
        }
        if (search && !(byRadius || byBox))
        {
            ctx.Error($"ERR exactly one of BYRADIUS and BYBOX can be specified for {ctx.ArgCString(0)}");
            return;
        }
        if (any && count == 0)
        {
            ctx.Error("ERR the ANY argument requires COUNT argument");
            return;
        }

        if (zset is null)
        {
            if (storeIndex < 0) ctx.Reply.ArrayHeader(0);
            else SortedSetCommands.StoreResult(ctx, ctx.Arg(storeIndex), new SortedSetValue());
            return;
        }
        // COUNT needs the nearest ones, so it sorts unless ANY asked for any matches.
        if (count != 0 && sort == Sort.None && !any) sort = Sort.Ascending;

        var shape = new GeoShape(longitude, latitude, isBox, radius, width, height, conversion);
        var found = t_found ?? new List<GeoPoint>();
        t_found = null;
        try
        {
            MembersInShape(zset, shape, any ? count : 0, found);
            Reply(ctx, found, sort, count, storeIndex, storeDistance, withDistance, withHash, withCoordinates, conversion);
        }
        finally
        {
            found.Clear();
            // A search that found very many keeps no large list alive.
            if (found.Capacity <= 4096) t_found = found;
        }
    }

    static void Reply(CommandContext ctx, List<GeoPoint> found, Sort sort, long count, int storeIndex, bool storeDistance,
        bool withDistance, bool withHash, bool withCoordinates, double conversion)
    {
        if (found.Count == 0 && storeIndex < 0)
        {
            ctx.Reply.ArrayHeader(0);
            return;
        }
        int returned = count == 0 || found.Count < count ? found.Count : (int)count;
        if (sort != Sort.None) SortFound(CollectionsMarshal.AsSpan(found), sort == Sort.Descending, returned);

        if (storeIndex >= 0)
        {
            Store(ctx, ctx.Arg(storeIndex), found, returned, storeDistance, conversion);
            return;
        }
        int options = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0);
        ctx.Reply.ArrayHeader(returned);
        for (int i = 0; i < returned; i++)
        {
            var point = found[i];
            if (options > 0) ctx.Reply.ArrayHeader(options + 1);
            ctx.Reply.Bulk(point.Member);
            if (withDistance) ReplyDistance(ctx.Reply, point.Distance / conversion);
            if (withHash) ctx.Reply.Integer((long)point.Score);
            if (withCoordinates) ReplyCoordinates(ctx.Reply, point.Longitude, point.Latitude);
        }
    }

    /// <summary>
    /// membersOfAllNeighbors: the members of each covering cell's score range [min, max) inside the
    /// shape, cell by cell in Redis's order (a cell equal to the one scanned before is skipped); with a
    /// limit (COUNT ANY) it stops once that many were found.
    /// </summary>
    static void MembersInShape(SortedSetValue zset, in GeoShape shape, long limit, List<GeoPoint> found)
    {
        var cells = GeoHash.CoveringCells(shape);
        int lastScanned = 0;
        for (int i = 0; i < GeoCells.Count; i++)
        {
            if (cells[i].IsZero) continue;
            if (lastScanned != 0 && cells[i] == cells[lastScanned]) continue;
            if (found.Count > 0 && limit != 0 && found.Count >= limit) break;
            ScanCell(zset, cells[i], shape, found, limit);
            lastScanned = i;
        }
    }

    /// <summary>geoGetPointsInRange: the members with scores in the cell's range [min, max) that lie inside the shape.</summary>
    static void ScanCell(SortedSetValue zset, GeoHashBits cell, in GeoShape shape, List<GeoPoint> found, long limit)
    {
        double min = GeoHash.Align52(cell);
        double max = GeoHash.Align52(cell with { Bits = cell.Bits + 1 });
        long rank = zset.CountBefore(new ScoreBound(min, afterEqual: false));
        if (rank == zset.Count) return;
        var cursor = zset.At(rank);
        for (; rank < zset.Count; rank++, cursor.Advance())
        {
            double score = cursor.Score;
            if (score >= max) return;
            var (longitude, latitude) = GeoHash.DecodeScore(score);
            if (shape.Contains(longitude, latitude, out double distance)) found.Add(new GeoPoint(cursor.Member, longitude, latitude, distance, score, found.Count));
            if (found.Count > 0 && limit != 0 && found.Count >= limit) return;
        }
    }

    /// <summary>STORE/STOREDIST: the first <paramref name="returned"/> points as a zset scored by hash or by distance in the unit.</summary>
    static void Store(CommandContext ctx, ReadOnlySpan<byte> destination, List<GeoPoint> found, int returned, bool storeDistance, double conversion)
    {
        var result = new SortedSetValue();
        result.ConvertToSkiplist();
        for (int i = 0; i < returned; i++)
        {
            var point = found[i];
            result.Insert(point.Member, storeDistance ? point.Distance / conversion : point.Score, long.MaxValue, long.MaxValue);
        }
        result.ConvertToCompactIfFits(ctx.Config.ZsetMaxListpackEntries, ctx.Config.ZsetMaxListpackValue);
        SortedSetCommands.StoreResult(ctx, destination, result);
    }
}
