namespace Moat.Engine.Names;

/// <summary>docker's container names: the grammar a given name must follow, and adjective_surname for a container that was given none.</summary>
public static class ContainerNames
{
    static readonly string[] Adjectives =
    [
        "admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "boring", "brave", "busy",
        "charming", "clever", "compassionate", "competent", "confident", "cool", "cranky", "crazy", "dazzling",
        "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent",
        "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant",
        "gifted", "goofy", "gracious", "great", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible",
        "inspiring", "intelligent", "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid",
        "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective",
        "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "relaxed",
        "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange", "stupefied",
        "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant", "vigilant",
        "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
    ];

    static readonly string[] Surnames =
    [
        "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha",
        "blackwell", "bohr", "booth", "borg", "bose", "boyd", "brahmagupta", "brown", "carson", "cerf", "chandrasekhar",
        "chatelet", "clarke", "colden", "cori", "cray", "curie", "darwin", "davinci", "dijkstra", "dubinsky", "easley",
        "einstein", "elion", "engelbart", "euclid", "euler", "fermat", "fermi", "feynman", "franklin", "galileo",
        "gates", "goldberg", "goldstine", "goodall", "hamilton", "hawking", "heisenberg", "hellman", "hermann",
        "hodgkin", "hopper", "hypatia", "jackson", "jang", "jennings", "johnson", "kalam", "kapitsa", "keller",
        "kepler", "knuth", "kowalevski", "lalande", "lamarr", "lamport", "leakey", "leavitt", "lovelace", "lumiere",
        "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "merkle", "mirzakhani", "montalcini", "moore",
        "morse", "napier", "nash", "newton", "nobel", "noether", "pare", "pascal", "pasteur", "payne", "perlman",
        "pike", "poincare", "ptolemy", "raman", "ritchie", "rosalind", "sammet", "shannon", "shockley", "sinoussi",
        "snyder", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira", "visvesvaraya",
        "wescoff", "wiles", "williams", "wilson", "wozniak", "wright", "yalow", "yonath",
    ];

    /// <summary>A fresh name; <paramref name="taken"/> says which exist (a few tries, then a digit is added as docker does).</summary>
    public static string Generate(Func<string, bool> taken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var name = $"{Adjectives[KernelRandom.Below(Adjectives.Length)]}_{Surnames[KernelRandom.Below(Surnames.Length)]}";
            if (attempt > 3)
                name += KernelRandom.Below(10).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!taken(name))
                return name;
        }
    }

    /// <summary>docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+, given with or without a leading '/'.</summary>
    public static string Validate(string name)
    {
        var text = name.StartsWith('/') ? name[1..] : name;
        if (text.Length < 2 || text.Length > 253 || !char.IsAsciiLetterOrDigit(text[0]) || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
            throw new EngineException($"invalid container name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters");
        return text;
    }

    /// <summary>A new container id: 32 random bytes as 64 hex digits (docker's shape), never all digits (a short id must not read as a number).</summary>
    public static string NewId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(KernelRandom.Bytes(32));
            if (!id[..12].All(char.IsAsciiDigit))
                return id;
        }
    }
}
