using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Moat.Images.Storage;
using Moat.Oci;

namespace Moat.Engine.Store;

/// <summary>
/// Containers and volumes in the store's SQLite database (images.db, next to the images' tables): WAL and a
/// busy timeout as the image catalogue has them, so many `moat` processes share it; synchronous=NORMAL (a
/// commit is not an fdatasync; the WAL is synced at checkpoints, at the latest when the last connection of a
/// `moat` closes, and by the image catalogue's FULL commits, which share the WAL). A killed process loses
/// nothing committed; a power cut may lose the last commits of the `moat` commands running at that moment,
/// which leaves what killing them at an earlier step would (docs/engine.md, "Crash safety").
/// Names are unique through the table's UNIQUE constraint, whatever process inserts.
/// One connection per instance, one thread at a time.
/// </summary>
public sealed class ContainerStore : IDisposable
{
    const int BusyTimeoutSeconds = 30;
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
    const string Columns = "id, name, image_id, image_name, created, state, pid, monitor_pid, monitor_start_time, started_at, finished_at, exit_code, restart_count, health, oom_killed, error, runtime, isolation, settings";

    readonly SqliteConnection connection;
    readonly Lock gate = new();

    public string DatabasePath { get; }

    public ContainerStore(string databasePath)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        SqliteProvider.EnsureInitialized();
        connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        try
        {
            connection.Open();
            Execute($"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000}");
            Execute("PRAGMA journal_mode = WAL");
            Execute("PRAGMA synchronous = NORMAL");
            SqliteProvider.KeepWriteAheadLog(connection);
            EngineSchema.Migrate(connection, DatabasePath);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new EngineException($"cannot open the container database {DatabasePath}: {ErrorText.Reason(e)}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Adds a new container; a name already taken is refused with docker's sentence.</summary>
    public void Insert(ContainerRecord record)
    {
        try
        {
            Write(t => Run(t, $"INSERT INTO containers ({Columns}) VALUES ($id, $name, $image_id, $image_name, $created, $state, $pid, $monitor_pid, $monitor_start_time, $started_at, $finished_at, $exit_code, $restart_count, $health, $oom_killed, $error, $runtime, $isolation, $settings)", Parameters(record)));
        }
        catch (EngineException e) when (e.InnerException is SqliteException { SqliteErrorCode: 19 } && FindByName(record.Name) is { } other)
        {
            throw new EngineException($"the container name \"/{record.Name}\" is already in use by container {other.Id}: remove or rename that container to reuse the name", e);
        }
    }

    /// <summary>Writes every column of an existing container.</summary>
    public void Update(ContainerRecord record) =>
        Write(t =>
        {
            if (Run(t, "UPDATE containers SET name=$name, image_id=$image_id, image_name=$image_name, created=$created, state=$state, pid=$pid, monitor_pid=$monitor_pid, monitor_start_time=$monitor_start_time, started_at=$started_at, finished_at=$finished_at, exit_code=$exit_code, restart_count=$restart_count, health=$health, oom_killed=$oom_killed, error=$error, runtime=$runtime, isolation=$isolation, settings=$settings WHERE id=$id", Parameters(record)) == 0)
                throw new NoSuchContainerException(record.Id);
        });

    /// <summary>rename: the UNIQUE constraint decides between two renamers.</summary>
    public void Rename(string id, string name)
    {
        try
        {
            Write(t => Run(t, "UPDATE containers SET name=$name WHERE id=$id", ("$name", name), ("$id", id)));
        }
        catch (EngineException e) when (e.InnerException is SqliteException { SqliteErrorCode: 19 } && FindByName(name) is { } other)
        {
            throw new EngineException($"the container name \"/{name}\" is already in use by container {other.Id}", e);
        }
    }

    public void Delete(string id) => Write(t => Run(t, "DELETE FROM containers WHERE id=$id", ("$id", id)));

    public ContainerRecord? Get(string id) => Query("WHERE id=$id", ("$id", id)).FirstOrDefault();

    public ContainerRecord? FindByName(string name) => Query("WHERE name=$name", ("$name", name)).FirstOrDefault();

    public IReadOnlyList<ContainerRecord> List() => Query("ORDER BY created DESC");

    /// <summary>docker's lookup: a full id, a name (with or without '/'), or a unique id prefix.</summary>
    public ContainerRecord Find(string reference)
    {
        if (string.IsNullOrEmpty(reference))
            throw new EngineException("a container reference is empty");
        var text = reference.TrimStart('/');
        if (text.Length == 64 && Get(text) is { } byId) return byId;
        if (FindByName(text) is { } byName) return byName;
        if (text.All(char.IsAsciiHexDigitLower))
        {
            var matches = Query("WHERE id LIKE $prefix", ("$prefix", text + "%"));
            if (matches.Count == 1) return matches[0];
            if (matches.Count > 1)
                throw new EngineException($"container id prefix '{text}' is ambiguous ({matches.Count} containers): give more digits");
        }
        throw new NoSuchContainerException(reference);
    }

    // ---- volumes

    /// <summary>Adds a volume if it is not there; true when this call created it.</summary>
    public bool AddVolume(string name, bool anonymous, IReadOnlyDictionary<string, string>? labels = null)
    {
        var added = false;
        Write(t => added = Run(t, "INSERT OR IGNORE INTO volumes (name, created, anonymous, labels) VALUES ($name, $created, $anonymous, $labels)",
            ("$name", name), ("$created", Time(DateTimeOffset.UtcNow)), ("$anonymous", anonymous ? 1 : 0),
            ("$labels", JsonSerializer.Serialize(new Dictionary<string, string>(labels ?? new Dictionary<string, string>()), EngineJsonContext.Default.DictionaryStringString))) == 1);
        return added;
    }

    public void RemoveVolume(string name) => Write(t => Run(t, "DELETE FROM volumes WHERE name=$name", ("$name", name)));

    public IReadOnlyList<VolumeRecord> Volumes()
    {
        lock (gate)
        {
            var list = new List<VolumeRecord>();
            using var command = Command("SELECT name, created, anonymous FROM volumes ORDER BY name");
            using var reader = command.ExecuteReader();
            while (reader.Read())
                list.Add(new VolumeRecord(reader.GetString(0), ParseTime(reader.GetString(1)), reader.GetInt64(2) != 0));
            return list;
        }
    }

    public void Dispose() => connection.Dispose();

    // ---- plumbing

    IReadOnlyList<ContainerRecord> Query(string where, params (string Name, object Value)[] parameters)
    {
        lock (gate)
        {
            var list = new List<ContainerRecord>();
            using var command = Command($"SELECT {Columns} FROM containers {where}", parameters);
            using var reader = command.ExecuteReader();
            while (reader.Read())
                list.Add(Read(reader));
            return list;
        }
    }

    static ContainerRecord Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        ImageId = r.GetString(2),
        ImageName = r.GetString(3),
        Created = ParseTime(r.GetString(4)),
        State = r.GetString(5),
        Pid = (int)r.GetInt64(6),
        MonitorPid = (int)r.GetInt64(7),
        MonitorStartTime = (ulong)r.GetInt64(8),
        StartedAt = r.IsDBNull(9) ? null : ParseTime(r.GetString(9)),
        FinishedAt = r.IsDBNull(10) ? null : ParseTime(r.GetString(10)),
        ExitCode = (int)r.GetInt64(11),
        RestartCount = (int)r.GetInt64(12),
        Health = r.IsDBNull(13) ? null : r.GetString(13),
        OomKilled = r.GetInt64(14) != 0,
        Error = r.IsDBNull(15) ? null : r.GetString(15),
        Runtime = r.GetString(16),
        Isolation = r.GetString(17),
        Settings = JsonSerializer.Deserialize(r.GetString(18), EngineJsonContext.Default.ContainerSettings) ?? new ContainerSettings(),
    };

    static (string, object)[] Parameters(ContainerRecord c) =>
    [
        ("$id", c.Id), ("$name", c.Name), ("$image_id", c.ImageId), ("$image_name", c.ImageName), ("$created", Time(c.Created)),
        ("$state", c.State), ("$pid", c.Pid), ("$monitor_pid", c.MonitorPid), ("$monitor_start_time", (long)c.MonitorStartTime),
        ("$started_at", c.StartedAt is { } s ? Time(s) : DBNull.Value), ("$finished_at", c.FinishedAt is { } f ? Time(f) : DBNull.Value),
        ("$exit_code", c.ExitCode), ("$restart_count", c.RestartCount), ("$health", (object?)c.Health ?? DBNull.Value),
        ("$oom_killed", c.OomKilled ? 1 : 0), ("$error", (object?)c.Error ?? DBNull.Value), ("$runtime", c.Runtime), ("$isolation", c.Isolation),
        ("$settings", JsonSerializer.Serialize(c.Settings, EngineJsonContext.Default.ContainerSettings)),
    ];

    static string Time(DateTimeOffset t) => t.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>One change, one IMMEDIATE transaction (the write lock first: writers queue on busy_timeout).</summary>
    void Write(Action<SqliteTransaction> change)
    {
        lock (gate)
        {
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                change(transaction);
                transaction.Commit();
            }
            catch (SqliteException e)
            {
                throw new EngineException($"the container database {DatabasePath} could not be changed: {ErrorText.Reason(e)}", e);
            }
        }
    }

    int Run(SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }

    SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

public sealed record VolumeRecord(string Name, DateTimeOffset Created, bool Anonymous);
