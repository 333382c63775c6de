tacos_runtime::contract!(root = "contract-fixtures", files = ["shop/v1/binding.proto"]);

fn main() {}
