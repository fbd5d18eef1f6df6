"""The prompt-mask painter: canvas, brush/eraser/fill, history, toolbar, zoom view and the editor dialog."""
