"""Label Studio beside the flow: the labeling config (`config`), a client that reaches the server
(`client`), the verbs that move work to and from it (`push`, `pull`, `review`, `serve`), and the
predictions offered to annotators (`predictions`)."""
