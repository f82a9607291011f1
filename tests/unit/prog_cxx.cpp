// C++ runtime under LD_PRELOAD: std::string, std::vector, iostream, exceptions.
#include "standalone.h"
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

struct Boom : std::runtime_error {
	std::vector<int> payload;
	explicit Boom(const std::string &w) : std::runtime_error(w), payload(1000, 7) {}
};

static std::size_t huge_count()
{
	volatile std::size_t n = static_cast<std::size_t>(1) << 62;
	return n;
}

static int thrower(int depth)
{
	std::string local(200, 'z');
	if (depth == 0)
		throw Boom("boom at depth 0 " + local.substr(0, 3));
	return thrower(depth - 1) + 1;
}

int main()
{
	std::vector<std::string> v;
	for (int i = 0; i < 1000; i++)
		v.push_back("item-" + std::to_string(i) + std::string(static_cast<size_t>(i % 50), '.'));
	std::size_t len = 0;
	for (const auto &s : v)
		len += s.size();
	std::cout << "vector: " << v.size() << " strings, " << len << " chars" << std::endl;

	std::map<int, std::unique_ptr<std::vector<double>>> m;
	for (int i = 0; i < 300; i++)
		m[i] = std::make_unique<std::vector<double>>(static_cast<size_t>(i * 10), 1.5);
	double sum = 0;
	for (auto &kv : m)
		for (double d : *kv.second)
			sum += d;
	std::cout << "map sum: " << sum << std::endl;

	int caught = 0;
	for (int i = 0; i < 100; i++) {
		try {
			thrower(10);
		} catch (const Boom &b) {
			if (std::string(b.what()) == "boom at depth 0 zzz" && b.payload.size() == 1000)
				caught++;
		}
	}
	std::cout << "caught: " << caught << std::endl;

	try {
		std::vector<int> huge;
		huge.reserve(static_cast<size_t>(1) << 60);
		std::cout << "bad_alloc: not thrown" << std::endl;
	} catch (const std::length_error &) {
		std::cout << "bad_alloc: length_error" << std::endl;
	} catch (const std::bad_alloc &) {
		std::cout << "bad_alloc: thrown" << std::endl;
	}
	try {
		std::unique_ptr<char[]> big(new char[huge_count()]);
		std::cout << "new huge: not thrown" << std::endl;
	} catch (const std::bad_alloc &) {
		std::cout << "new huge: bad_alloc" << std::endl;
	}

	std::ostringstream os;
	for (int i = 0; i < 100; i++)
		os << i << ',';
	std::cout << "stream: " << os.str().size() << " chars" << std::endl;
	std::cout << "allocator: " << which_allocator() << std::endl;
	return 0;
}
