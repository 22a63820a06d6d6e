// Optional parts an app registers by importing their entry (e.g. `import 'freshtoken/tabs'`),
// so createRefresher can use them without a dynamic import() (disallowed in service workers).
export const registry = { joinTabs: null };
