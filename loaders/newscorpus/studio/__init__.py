"""Label Studio beside the flow: the labeling config (`config`), a client that reaches the server
(`client`), and the verbs that move work to and from it (`push`, `pull`, `serve`)."""
