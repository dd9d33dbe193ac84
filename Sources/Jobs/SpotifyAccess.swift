import Spotify

/// Spotify clients for tools outside the jobs (the load benchmark), with the jobs' shared daily budget.
public enum SpotifyAccess {
    /// A client whose requests spend the shared daily budget (none when the budget setting is 0).
    public static func client(settings: JobSettings) throws(SpotifyError) -> SpotifyClient {
        guard settings.dailyBudget > 0 else { return try SpotifyClient(configuration: settings.spotify) }
        let database: JobDatabase
        do { database = try JobDatabase(conninfo: settings.conninfo, keys: settings.tokenKeys, tasks: 1) } catch {
            throw .unavailable("cannot start the database session: \(error)")
        }
        return try SpotifyClient(configuration: settings.spotify,
                                 budget: DatabaseBudget(database: database, dailyBudget: settings.dailyBudget))
    }
}
