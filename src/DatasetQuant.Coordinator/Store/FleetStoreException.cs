namespace DatasetQuant.Coordinator.Store;

/// <summary>The fleet store could not be opened or used; the message names the database and what is wrong.</summary>
public sealed class FleetStoreException : Exception
{
    public FleetStoreException(string message)
        : base(message)
    {
    }

    public FleetStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
