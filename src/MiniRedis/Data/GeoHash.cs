namespace MiniRedis.Data;

/// <summary>A geohash of <see cref="Step"/> bits per coordinate: latitude in the even bits, longitude in the odd ones.</summary>
public readonly record struct GeoHashBits(ulong Bits, int Step)
{
    public bool IsZero => Bits == 0 && Step == 0;
}

/// <summary>The 9 cells a search scans, held inline (no array per search).</summary>
[System.Runtime.CompilerServices.InlineArray(Count)]
public struct GeoCells
{
    public const int Count = 9;
    GeoHashBits _first;
}

/// <summary>The cell a geohash stands for.</summary>
public readonly record struct GeoArea(double LongitudeMin, double LongitudeMax, double LatitudeMin, double LatitudeMax);

/// <summary>
/// What GEORADIUS and GEOSEARCH look in: a circle (<see cref="Radius"/>) or a box (<see cref="Width"/> by
/// <see cref="Height"/>), in the request's unit, which is <see cref="Conversion"/> meters (kept apart as
/// Redis keeps them, so the products round as its do).
/// </summary>
public readonly struct GeoShape
{
    public GeoShape(double longitude, double latitude, bool isBox, double radius, double width, double height, double conversion)
    {
        (Longitude, Latitude, IsBox, Radius, Width, Height, Conversion) = (longitude, latitude, isBox, radius, width, height, conversion);
        // Limits for a cheap test that only turns away points Redis's haversine would turn away too:
        // lower bounds of the distances it compares, against the limits with a margin far above rounding.
        const double Margin = 1 + 1e-9, AbsoluteMargin = 1e-9;
        double latitudeMeters = isBox ? height * conversion / 2 : radius * conversion;
        double longitudeMeters = isBox ? width * conversion / 2 : radius * conversion;
        _latitudeLimit = (latitudeMeters * Margin + AbsoluteMargin) / GeoHash.EarthRadiusMeters;
        _centreLatitude = GeoHash.Radians(latitude);
        _centreLongitude = GeoHash.Radians(longitude);
        // The smallest cosine of a latitude that passes the latitude test (the centre's included).
        double cosMin = Math.Cos(Math.Min(Math.PI / 2, Math.Abs(_centreLatitude) + _latitudeLimit * 1.001));
        double cosFactor = isBox ? cosMin : Math.Sqrt(Math.Max(0, Math.Cos(_centreLatitude)) * cosMin);
        _longitudeLimit = cosFactor > 1e-6 ? (longitudeMeters * Margin + AbsoluteMargin) / (2 * GeoHash.EarthRadiusMeters * cosFactor) : double.PositiveInfinity;
    }

    public double Longitude { get; }
    public double Latitude { get; }
    public bool IsBox { get; }
    public double Radius { get; }
    public double Width { get; }
    public double Height { get; }
    public double Conversion { get; }

    readonly double _centreLatitude, _centreLongitude, _latitudeLimit, _longitudeLimit;

    /// <summary>
    /// False for a point certainly outside: the great-circle distance (and a box's north-south offset) is at
    /// least R·|Δlatitude|, and the distance (a box's east-west offset) at least 2R·cos·(y - y³/6) for
    /// y = |Δlongitude|/2, since asin x ≥ x and sin y ≥ y - y³/6.
    /// </summary>
    bool MayContain(double longitude, double latitude)
    {
        if (Math.Abs(GeoHash.Radians(latitude) - _centreLatitude) > _latitudeLimit) return false;
        double y = Math.Abs(GeoHash.Radians(longitude) - _centreLongitude) / 2;
        return y - y * y * y / 6 <= _longitudeLimit;
    }

    /// <summary>Whether the point is inside the shape, with its distance in meters from the shape's centre.</summary>
    public bool Contains(double longitude, double latitude, out double distance)
    {
        distance = 0;
        if (!MayContain(longitude, latitude)) return false;
        if (!IsBox)
        {
            distance = GeoHash.Distance(Longitude, Latitude, longitude, latitude);
            return !(distance > Radius * Conversion);
        }
        // Redis 7.0's geohashGetDistanceIfInRectangle: the east-west and north-south offsets against half the sides.
        double lonDistance = GeoHash.Distance(longitude, latitude, Longitude, latitude);
        double latDistance = GeoHash.Distance(longitude, latitude, longitude, Latitude);
        if (lonDistance > Width * Conversion / 2 || latDistance > Height * Conversion / 2) return false;
        distance = GeoHash.Distance(Longitude, Latitude, longitude, latitude);
        return true;
    }
}

/// <summary>
/// Redis's geohash.c and geohash_helper.c: the 52-bit interleaved geohash that is a geo member's
/// zset score (26 bits each of longitude and latitude over Redis's Mercator-limited ranges), its
/// neighbours, the 9 cells that cover a search, and the haversine distance on Redis's earth radius.
/// The arithmetic is Redis's, step by step, so scores, coordinates and distances are its to the last bit.
/// </summary>
public static class GeoHash
{
    public const int StepMax = 26;
    public const double LongitudeMin = -180, LongitudeMax = 180;
    public const double LatitudeMin = -85.05112878, LatitudeMax = 85.05112878;
    public const double EarthRadiusMeters = 6372797.560856;
    const double MercatorMax = 20037726.37;
    const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>Whether GEOADD and the searches accept the pair (extractLongLatOrReply).</summary>
    public static bool IsValid(double longitude, double latitude)
        => longitude is >= LongitudeMin and <= LongitudeMax && latitude is >= LatitudeMin and <= LatitudeMax;

    /// <summary>geohashEncode over the given ranges; a zero hash when the point is outside them.</summary>
    public static GeoHashBits Encode(double longitude, double latitude, int step,
        double longMin = LongitudeMin, double longMax = LongitudeMax, double latMin = LatitudeMin, double latMax = LatitudeMax)
    {
        if (longitude is > 180 or < -180 || latitude is > LatitudeMax or < LatitudeMin) return new GeoHashBits(0, step);
        if (latitude < latMin || latitude > latMax || longitude < longMin || longitude > longMax) return new GeoHashBits(0, step);
        double latOffset = (latitude - latMin) / (latMax - latMin);
        double longOffset = (longitude - longMin) / (longMax - longMin);
        latOffset *= 1UL << step;
        longOffset *= 1UL << step;
        return new GeoHashBits(Interleave((uint)latOffset, (uint)longOffset), step);
    }

    /// <summary>The zset score of a point: its full-precision hash (geohashAlign52Bits at step 26).</summary>
    public static ulong Score(double longitude, double latitude) => Encode(longitude, latitude, StepMax).Bits;

    /// <summary>geohashAlign52Bits: the hash shifted to 52 bits, as scores and score ranges are.</summary>
    public static ulong Align52(GeoHashBits hash) => hash.Bits << (52 - hash.Step * 2);

    public static GeoArea Decode(GeoHashBits hash)
    {
        ulong separated = Deinterleave(hash.Bits);
        const double latScale = LatitudeMax - LatitudeMin, longScale = LongitudeMax - LongitudeMin;
        uint latBits = (uint)separated, longBits = (uint)(separated >> 32);
        double cells = 1UL << hash.Step;
        return new GeoArea(
            LongitudeMin + (longBits * 1.0 / cells) * longScale,
            LongitudeMin + ((longBits + 1) * 1.0 / cells) * longScale,
            LatitudeMin + (latBits * 1.0 / cells) * latScale,
            LatitudeMin + ((latBits + 1) * 1.0 / cells) * latScale);
    }

    /// <summary>
    /// C's (uint64_t) cast of a double as gcc compiles it on x86-64, for scores that are no geohash: a
    /// negative one wraps through int64 and one past the range gives 0 (.NET's cast saturates instead).
    /// </summary>
    static ulong CDoubleToUInt64(double value)
    {
        const double TwoPow63 = 9223372036854775808.0;
        if (value < TwoPow63) return (ulong)(long)value;
        double high = value - TwoPow63;
        return high < TwoPow63 ? (ulong)(long)high ^ 0x8000000000000000UL : 0;
    }

    /// <summary>The point a score stands for: the centre of its cell, clamped to the valid ranges (decodeGeohash).</summary>
    public static (double Longitude, double Latitude) DecodeScore(double score)
    {
        var area = Decode(new GeoHashBits(CDoubleToUInt64(score), StepMax));
        double longitude = Math.Clamp((area.LongitudeMin + area.LongitudeMax) / 2, LongitudeMin, LongitudeMax);
        double latitude = Math.Clamp((area.LatitudeMin + area.LatitudeMax) / 2, LatitudeMin, LatitudeMax);
        return (longitude, latitude);
    }

    /// <summary>GEOHASH's 11-character standard geohash (re-encoded over latitude ±90; the 11th character is always '0').</summary>
    public static void WriteStandardHash(double score, Span<byte> destination)
    {
        ReadOnlySpan<byte> alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"u8;
        var (longitude, latitude) = DecodeScore(score);
        ulong bits = Encode(longitude, latitude, StepMax, -180, 180, -90, 90).Bits;
        for (int i = 0; i < 11; i++) destination[i] = alphabet[i == 10 ? 0 : (int)((bits >> (52 - (i + 1) * 5)) & 0x1f)];
    }

    public static double Radians(double degrees) => degrees * DegreesToRadians;

    static double Degrees(double radians) => radians / DegreesToRadians;

    /// <summary>Haversine great-circle distance in meters (Redis 7.0's geohashGetDistance).</summary>
    public static double Distance(double lon1, double lat1, double lon2, double lat2)
    {
        double lat1r = Radians(lat1), lon1r = Radians(lon1), lat2r = Radians(lat2), lon2r = Radians(lon2);
        double u = Math.Sin((lat2r - lat1r) / 2);
        double v = Math.Sin((lon2r - lon1r) / 2);
        return 2.0 * EarthRadiusMeters * Math.Asin(Math.Sqrt(u * u + Math.Cos(lat1r) * Math.Cos(lat2r) * v * v));
    }

    /// <summary>
    /// The cells to scan for a search (geohashCalculateAreasByShapeWGS84): the centre's cell at a step
    /// fitting the shape, then its 8 neighbours (north, south, east, west, NE, NW, SE, SW), those the
    /// shape's bounding box cannot reach zeroed.
    /// </summary>
    public static GeoCells CoveringCells(in GeoShape shape)
    {
        double height = shape.Conversion * (shape.IsBox ? shape.Height / 2 : shape.Radius);
        double width = shape.Conversion * (shape.IsBox ? shape.Width / 2 : shape.Radius);
        double latitude = shape.Latitude, longitude = shape.Longitude;
        double latDelta = Degrees(height / EarthRadiusMeters);
        double longDeltaTop = Degrees(width / EarthRadiusMeters / Math.Cos(Radians(latitude + latDelta)));
        double longDeltaBottom = Degrees(width / EarthRadiusMeters / Math.Cos(Radians(latitude - latDelta)));
        bool southern = latitude < 0;
        double minLon = southern ? longitude - longDeltaBottom : longitude - longDeltaTop;
        double maxLon = southern ? longitude + longDeltaBottom : longitude + longDeltaTop;
        double minLat = latitude - latDelta, maxLat = latitude + latDelta;

        double halfWidth = shape.Width / 2, halfHeight = shape.Height / 2;
        double radiusMeters = (shape.IsBox ? Math.Sqrt(halfWidth * halfWidth + halfHeight * halfHeight) : shape.Radius) * shape.Conversion;
        int steps = EstimateSteps(radiusMeters, latitude);
        var hash = Encode(longitude, latitude, steps);
        var cells = Neighbours(hash);
        var area = Decode(hash);
        // Near a cell's edge the estimated step may leave part of the box outside the 9 cells: one step coarser then.
        if (steps > 1 && (Decode(cells[1]).LatitudeMax < maxLat || Decode(cells[2]).LatitudeMin > minLat
            || Decode(cells[3]).LongitudeMax < maxLon || Decode(cells[4]).LongitudeMin > minLon))
        {
            steps--;
            hash = Encode(longitude, latitude, steps);
            cells = Neighbours(hash);
            area = Decode(hash);
        }
        if (steps >= 2)
        {
            if (area.LatitudeMin < minLat) cells[2] = cells[8] = cells[7] = default;
            if (area.LatitudeMax > maxLat) cells[1] = cells[5] = cells[6] = default;
            if (area.LongitudeMin < minLon) cells[4] = cells[8] = cells[6] = default;
            if (area.LongitudeMax > maxLon) cells[3] = cells[7] = cells[5] = default;
        }
        return cells;
    }

    /// <summary>geohashEstimateStepsByRadius: the coarsest step whose cells still resolve the radius.</summary>
    static int EstimateSteps(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0) return StepMax;
        int step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        if (latitude is > 66 or < -66)
        {
            step--;
            if (latitude is > 80 or < -80) step--;
        }
        return Math.Clamp(step, 1, StepMax);
    }

    /// <summary>The cell and its 8 neighbours, in the order Redis scans them.</summary>
    static GeoCells Neighbours(GeoHashBits hash)
    {
        var cells = new GeoCells();
        cells[0] = hash;
        cells[1] = Move(hash, 0, 1);
        cells[2] = Move(hash, 0, -1);
        cells[3] = Move(hash, 1, 0);
        cells[4] = Move(hash, -1, 0);
        cells[5] = Move(hash, 1, 1);
        cells[6] = Move(hash, -1, 1);
        cells[7] = Move(hash, 1, -1);
        cells[8] = Move(hash, -1, -1);
        return cells;
    }

    static GeoHashBits Move(GeoHashBits hash, int dx, int dy)
    {
        ulong bits = hash.Bits;
        int shift = 64 - hash.Step * 2;
        if (dx != 0) bits = MoveAxis(bits, dx, 0xaaaaaaaaaaaaaaaaUL, 0x5555555555555555UL, shift);
        if (dy != 0) bits = MoveAxis(bits, dy, 0x5555555555555555UL, 0xaaaaaaaaaaaaaaaaUL, shift);
        return new GeoHashBits(bits, hash.Step);
    }

    /// <summary>geohash_move_x/y: adds or subtracts one on the bits of one coordinate, carrying across the other's.</summary>
    static ulong MoveAxis(ulong bits, int direction, ulong axisMask, ulong otherMask, int shift)
    {
        ulong axis = bits & axisMask, other = bits & otherMask;
        ulong filler = otherMask >> shift;
        if (direction > 0) axis += filler + 1;
        else
        {
            axis |= filler;
            axis -= filler + 1;
        }
        axis &= axisMask >> shift;
        return axis | other;
    }

    static ulong Interleave(uint x, uint y) => Spread(x) | Spread(y) << 1;

    static ulong Spread(uint value)
    {
        ulong v = value;
        v = (v | v << 16) & 0x0000FFFF0000FFFFUL;
        v = (v | v << 8) & 0x00FF00FF00FF00FFUL;
        v = (v | v << 4) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | v << 2) & 0x3333333333333333UL;
        v = (v | v << 1) & 0x5555555555555555UL;
        return v;
    }

    /// <summary>The even bits into the low 32, the odd ones into the high 32.</summary>
    static ulong Deinterleave(ulong bits) => Gather(bits) | (ulong)Gather(bits >> 1) << 32;

    static uint Gather(ulong v)
    {
        v &= 0x5555555555555555UL;
        v = (v | v >> 1) & 0x3333333333333333UL;
        v = (v | v >> 2) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | v >> 4) & 0x00FF00FF00FF00FFUL;
        v = (v | v >> 8) & 0x0000FFFF0000FFFFUL;
        v = (v | v >> 16) & 0x00000000FFFFFFFFUL;
        return (uint)v;
    }
}
