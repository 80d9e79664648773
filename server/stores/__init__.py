"""Store backends: the interface every route uses, its embedded Oxigraph implementation, the answer cache."""
